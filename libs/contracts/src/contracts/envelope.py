"""The common envelope carried by every event."""

from datetime import UTC, datetime
from typing import ClassVar, Self
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EventPayload(BaseModel):
    """Base of every event payload.

    ``routing_key`` follows ``<aggregate>.<action>.v<version>`` so that an external system
    can bind ``request.assigned.*`` and receive every version of one event.
    """

    # Readers ignore what they do not know: producers may add fields at any time.
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    version: ClassVar[int] = 1
    aggregate: ClassVar[str]
    action: ClassVar[str]

    @classmethod
    def routing_key(cls) -> str:
        return f"{cls.aggregate}.{cls.action}.v{cls.version}"


class Envelope[DataT: EventPayload](BaseModel):
    """Metadata common to all events, with the event-specific payload in ``data``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: UUID = Field(description="Unique id of this event; consumers deduplicate on it.")
    type: str = Field(description="Event type name, e.g. `RequestSubmitted`.")
    version: int = Field(ge=1, description="Contract version of `data`.")
    occurred_at: datetime = Field(description="When the fact happened (UTC, ISO 8601).")
    correlation_id: str = Field(
        min_length=1,
        max_length=128,
        description="Id shared by every event caused by the same customer request or action.",
    )
    producer: str = Field(min_length=1, description="Name of the service that published it.")
    data: DataT = Field(description="The event payload.")

    @model_validator(mode="after")
    def _type_matches_payload(self) -> Self:
        # A payload that happens to validate must not pass for another event type.
        expected = getattr(type(self.data), "event_type", None)
        if expected is not None and self.type != expected:
            raise ValueError(f"an envelope of type {self.type!r} cannot carry a {expected} payload")
        return self

    def caused(self, data: EventPayload, producer: str) -> "Envelope[EventPayload]":
        """A follow-up event that keeps this event's correlation id."""
        return new_event(data, producer=producer, correlation_id=self.correlation_id)

    @classmethod
    def of(cls, data: DataT, *, producer: str, correlation_id: str) -> Self:
        return cls(
            event_id=uuid4(),
            type=data.event_type,
            version=data.version,
            occurred_at=datetime.now(UTC),
            correlation_id=correlation_id,
            producer=producer,
            data=data,
        )


def new_event(data: EventPayload, *, producer: str, correlation_id: str) -> Envelope[EventPayload]:
    """Wrap a payload in a fresh envelope."""
    return Envelope[type(data)].of(data, producer=producer, correlation_id=correlation_id)  # type: ignore[misc]
