"""Our events as CloudEvents 1.0: the attributes any CloudEvents SDK reads.

On the bus they travel as the AMQP binding's application properties (`cloudEvents:id`, …)
next to today's envelope, which stays the message body; webhooks send the structured JSON
form. One mapping serves both.
"""

from typing import Any

from contracts.envelope import Envelope

SPECVERSION = "1.0"
TYPE_PREFIX = "com.assistline."
AMQP_PREFIX = "cloudEvents:"


def ce_type(event: Envelope[Any]) -> str:
    """`com.assistline.<EventType>.v<version>`, e.g. `com.assistline.RequestAssigned.v1`."""
    return f"{TYPE_PREFIX}{event.type}.v{event.version}"


def ce_source(event: Envelope[Any]) -> str:
    return f"/assistline/{event.producer}"


def ce_subject(event: Envelope[Any]) -> str | None:
    """The request (or else session, technician, portal, code) the event is about."""
    for field in ("request_id", "session_id", "technician_id", "portal_id", "code_id"):
        value = getattr(event.data, field, None)
        if value:
            return str(value)
    return None


def attributes(event: Envelope[Any]) -> dict[str, str]:
    """The CloudEvents context attributes of `event` (no `data`)."""
    context = {
        "specversion": SPECVERSION,
        "id": str(event.event_id),
        "source": ce_source(event),
        "type": ce_type(event),
        "time": event.occurred_at.isoformat(),
        "datacontenttype": "application/json",
    }
    if subject := ce_subject(event):
        context["subject"] = subject
    return context


def amqp_properties(event: Envelope[Any]) -> dict[str, Any]:
    """Application properties of the CloudEvents AMQP binding, e.g. `cloudEvents:id`."""
    return {AMQP_PREFIX + name: value for name, value in attributes(event).items()}


def structured(event: Envelope[Any]) -> dict[str, Any]:
    """The structured-mode JSON form: attributes plus the whole envelope as `data`."""
    return {**attributes(event), "data": event.model_dump(mode="json")}
