"""Names of the exchanges every service shares."""

from contracts.envelope import EventPayload

EVENTS_EXCHANGE = "assistline.events"
"""The one durable topic exchange all events are published to."""

DEAD_LETTER_EXCHANGE = "assistline.dead-letter"
"""Where rejected (poison) and over-delivered messages go; each service binds its `.dlq`."""


def routing_key_for(payload: type[EventPayload] | EventPayload) -> str:
    return payload.routing_key()


PARTITION_HEADER = "assistline-company"
"""Message header naming the company an event concerns. A consumer that partitions work by
company (dispatch-svc, through a consistent-hash exchange) hashes on it, so every event of
one company reaches the same partition queue, in order."""


def partition_headers(data: EventPayload) -> dict[str, str]:
    """`{PARTITION_HEADER: company}` for an event about one company; empty otherwise."""
    company_id = getattr(data, "company_id", None)
    return {PARTITION_HEADER: company_id} if isinstance(company_id, str) and company_id else {}
