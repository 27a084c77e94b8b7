"""HTTP bodies of the admin API."""

from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from webhook_svc.domain.model import EVENT_TYPES, AttemptRecord, Delivery, DeliveryStatus, Endpoint

URL = Field(
    min_length=8,
    max_length=2048,
    description="Where deliveries are POSTed: https:// on a public address.",
    examples=["https://crm.example.com/hooks/assistline"],
)
TYPES = Field(
    min_length=1,
    max_length=len(EVENT_TYPES),
    description="Event types sent to the endpoint (see GET /event-types).",
    examples=[["RequestSubmitted", "RequestAssigned", "ChatSessionEnded"]],
)


class EndpointIn(BaseModel):
    url: str = URL
    event_types: list[str] = TYPES
    description: str = Field(default="", max_length=200, description="What the endpoint is for.")
    enabled: bool = Field(default=True, description="Disabled endpoints receive nothing.")


class EndpointPatch(BaseModel):
    url: str | None = Field(default=None, min_length=8, max_length=2048, description="New URL.")
    event_types: list[str] | None = Field(default=None, min_length=1, description="New subscription.")
    description: str | None = Field(default=None, max_length=200, description="New description.")
    enabled: bool | None = Field(default=None, description="Enable (failure streak starts over) or disable.")


class EndpointOut(BaseModel):
    endpoint_id: str = Field(description="Endpoint id.")
    url: str = Field(description="Where deliveries are POSTed.")
    description: str = Field(description="What it is for.")
    event_types: list[str] = Field(description="Event types sent to it.")
    enabled: bool = Field(description="Whether it receives deliveries.")
    disabled_reason: str | None = Field(description="`failures` (disabled automatically) or `admin`.")
    failure_streak: int = Field(description="Failed attempts in a row (0 when the last one succeeded).")
    failing_since: datetime | None = Field(description="When the current failure streak began.")
    last_error: str = Field(description="What the last failed attempt got.")
    secret_rotating_until: datetime | None = Field(
        description="While a rotation overlaps: until when the previous secret still signs."
    )
    created_at: datetime = Field(description="When it was registered.")
    updated_at: datetime = Field(description="When it last changed.")

    @classmethod
    def of(cls, endpoint: Endpoint, now: datetime) -> Self:
        overlaps = [s.expires_at for s in endpoint.secrets if s.expires_at is not None and s.expires_at > now]
        return cls(
            endpoint_id=endpoint.endpoint_id,
            url=endpoint.url,
            description=endpoint.description,
            event_types=list(endpoint.event_types),
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            failure_streak=endpoint.failure_streak,
            failing_since=endpoint.failing_since,
            last_error=endpoint.last_error,
            secret_rotating_until=max(overlaps) if overlaps else None,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class EndpointCreated(BaseModel):
    endpoint: EndpointOut = Field(description="The new endpoint.")
    secret: str = Field(description="Signing secret (`whsec_…`): shown this once, store it now.")


class SecretRotated(BaseModel):
    endpoint: EndpointOut = Field(description="The endpoint.")
    secret: str = Field(description="The new signing secret: shown this once.")
    previous_valid_until: datetime = Field(
        description="Until then every delivery carries a second signature made with the previous secret."
    )


class EndpointList(BaseModel):
    endpoints: list[EndpointOut] = Field(description="The account's endpoints, oldest first.")


class EventTypes(BaseModel):
    event_types: list[str] = Field(description="Event types an endpoint can subscribe to.")


class AttemptOut(BaseModel):
    attempt: int = Field(description="1 for the first try.")
    at: datetime = Field(description="When it was made.")
    status_code: int | None = Field(description="The receiver's HTTP status; null when none came back.")
    error: str = Field(description="Why it failed ('' on success).")
    duration_ms: float = Field(description="How long it took.")

    @classmethod
    def of(cls, record: AttemptRecord) -> Self:
        return cls(
            attempt=record.attempt,
            at=record.at,
            status_code=record.status_code,
            error=record.error,
            duration_ms=record.duration_ms,
        )


class DeliveryOut(BaseModel):
    delivery_id: str = Field(description="Delivery id (endpoint and event).")
    event_id: str = Field(description="The event's id: the `webhook-id` header and the CloudEvents `id`.")
    event_type: str = Field(description="Event type, e.g. `RequestAssigned`.")
    status: DeliveryStatus = Field(description="pending, delivered or failed (given up).")
    attempts: int = Field(description="Tries made since it was (re)queued.")
    last_status_code: int | None = Field(description="HTTP status of the last try.")
    last_error: str = Field(description="Why the last try failed.")
    created_at: datetime = Field(description="When it was recorded.")
    last_attempt_at: datetime | None = Field(description="When it was last tried.")
    history: list[AttemptOut] = Field(description="The last tries, oldest first.")

    @classmethod
    def of(cls, delivery: Delivery) -> Self:
        return cls(
            delivery_id=delivery.delivery_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            last_attempt_at=delivery.last_attempt_at,
            history=[AttemptOut.of(h) for h in delivery.history],
        )


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryOut] = Field(description="Newest first.")
    next_offset: int | None = Field(description="Offset of the next page; null on the last one.")
