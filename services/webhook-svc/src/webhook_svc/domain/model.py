"""Webhook endpoints and deliveries as plain values, and what may be subscribed to."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    EventPayload,
    RequestAcknowledged,
    RequestAssigned,
    RequestCancelled,
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestRejected,
    RequestReturnedToQueue,
    RequestSubmitted,
    RequestTransferLapsed,
    RequestTransferOffered,
    RequestTransferred,
    TechnicianAvailable,
    TechnicianUnavailable,
)

SUBSCRIBABLE: tuple[type[EventPayload], ...] = (
    RequestSubmitted,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestQueued,
    RequestAssigned,
    RequestAcknowledged,
    RequestRejected,
    RequestCancelled,
    RequestTransferOffered,
    RequestTransferred,
    RequestTransferLapsed,
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
    RequestReturnedToQueue,
    ChatSessionStarted,
    ChatSessionEnded,
    ConnectionCodeIssued,
    ConnectionCodeRevoked,
    TechnicianAvailable,
    TechnicianUnavailable,
)
"""The request and chat lifecycle, connection codes and availability: what an integrator
(CRM, ticketing, chat-ops) reacts to. Configuration events stay internal."""

EVENT_TYPES: tuple[str, ...] = tuple(p.event_type for p in SUBSCRIBABLE)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its turn, being sent, or waiting for its next try."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """Given up: every try failed, or the endpoint was disabled or deleted meanwhile."""


@dataclass(frozen=True)
class Secret:
    value: str
    expires_at: datetime | None = None
    """None for the current secret; a rotated-out secret signs too until it expires."""


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    account_id: str
    url: str
    description: str
    event_types: tuple[str, ...]
    enabled: bool
    secrets: tuple[Secret, ...]
    created_at: datetime
    updated_at: datetime
    failure_streak: int = 0
    failing_since: datetime | None = None
    last_error: str = ""
    disabled_reason: str | None = None

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret first, then the rotated-out ones still inside their overlap."""
        return [s.value for s in self.secrets if s.expires_at is None or s.expires_at > now]

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.event_types


@dataclass(frozen=True)
class AttemptRecord:
    attempt: int
    at: datetime
    status_code: int | None
    error: str
    duration_ms: float


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    endpoint_id: str
    account_id: str
    event_id: str
    event_type: str
    lane: str
    payload: str
    """The CloudEvents structured JSON body, exactly as sent on every try."""
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    occurred_at: datetime
    """When the event happened: the order of deliveries within a lane."""
    last_status_code: int | None = None
    last_error: str = ""
    last_attempt_at: datetime | None = None
    history: tuple[AttemptRecord, ...] = field(default_factory=tuple)


def delivery_id(endpoint_id: str, event_id: str) -> str:
    """One delivery per endpoint and event, whatever the redeliveries: the id is derived."""
    return f"{endpoint_id}.{event_id}"


def lane_id(endpoint_id: str, subject: str) -> str:
    """Deliveries to one endpoint about one request (or other subject) go out in order."""
    return f"{endpoint_id}.{subject}"
