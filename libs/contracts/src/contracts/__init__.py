"""The Assistline event catalogue.

Every message on the bus is an :class:`Envelope` whose ``data`` is one of the payload
models below. Contract changes are additive: readers ignore unknown fields, and a
breaking change would get a new ``version`` and a new routing key.
"""

from contracts.envelope import Envelope, EventPayload, new_event
from contracts.events import (
    CATALOGUE,
    ChatSessionEnded,
    ChatSessionStarted,
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    PortalConfigured,
    RequestAssigned,
    RequestCancelled,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestRejected,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
    payload_type,
)
from contracts.ids import new_id
from contracts.topology import DEAD_LETTER_EXCHANGE, EVENTS_EXCHANGE, routing_key_for

__all__ = [
    "CATALOGUE",
    "DEAD_LETTER_EXCHANGE",
    "EVENTS_EXCHANGE",
    "ChatSessionEnded",
    "ChatSessionStarted",
    "ConnectionCodeIssued",
    "ConnectionCodeRevoked",
    "Envelope",
    "EventPayload",
    "PortalConfigured",
    "RequestAssigned",
    "RequestCancelled",
    "RequestOfferWithdrawn",
    "RequestOffered",
    "RequestQueued",
    "RequestRejected",
    "RequestSubmitted",
    "TechnicianAvailable",
    "TechnicianUnavailable",
    "TechnicianUpdated",
    "new_event",
    "new_id",
    "payload_type",
    "routing_key_for",
]
