"""Names of the exchanges every service shares."""

from contracts.envelope import EventPayload

EVENTS_EXCHANGE = "assistline.events"
"""The one durable topic exchange all events are published to."""

DEAD_LETTER_EXCHANGE = "assistline.dead-letter"
"""Where rejected (poison) and over-delivered messages go; each service binds its `.dlq`."""


def routing_key_for(payload: type[EventPayload] | EventPayload) -> str:
    return payload.routing_key()
