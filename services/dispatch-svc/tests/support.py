"""Test helpers: publishing events as the other services would, and building them."""

import uuid
from datetime import UTC, datetime
from typing import Any

import aio_pika

from contracts import (
    EVENTS_EXCHANGE,
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    EventPayload,
    RequestCancelled,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
    partition_headers,
)
from servicekit.broker import MAYBE_REPEAT_HEADER

ACCOUNT = "acc_test"


def envelope(payload: EventPayload, producer: str = "portal-svc") -> Envelope[Any]:
    return Envelope[type(payload)].of(payload, producer=producer, correlation_id=f"corr-{uuid.uuid4().hex[:8]}")


class Bus:
    """One AMQP connection publishing envelopes to the events exchange."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def __aenter__(self) -> "Bus":
        self._connection = await aio_pika.connect(self.url)
        channel = await self._connection.channel()
        self._exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._connection.close()

    async def send(self, event: Envelope[Any] | EventPayload, *, repeat: bool = False) -> Envelope[Any]:
        """`repeat`: marked as the outbox marks a publication that may repeat an earlier one
        (its sweeper's, a retry), so dispatch treats it as the duplicate it may be."""
        if isinstance(event, EventPayload):
            event = envelope(event)
        await self._exchange.publish(
            aio_pika.Message(
                body=event.model_dump_json().encode(),
                message_id=str(event.event_id),
                correlation_id=event.correlation_id,
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                # As servicekit's publisher: dispatch partitions company events on it.
                headers={**partition_headers(event.data), **({MAYBE_REPEAT_HEADER: True} if repeat else {})},
            ),
            routing_key=event.data.routing_key(),
        )
        return event


def submitted(
    request_id: str, company: str, mode: str = "queue", portal_type: str = "smart_box", **extra: Any
) -> RequestSubmitted:
    return RequestSubmitted(
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        portal_id=f"prt_{company}",
        mode=mode,
        portal_type=portal_type,
        customer_name=f"Customer {request_id}",
        description="My printer is on fire",
        submitted_at=datetime.now(UTC),
        **extra,
    )


def available(technician: str, companies: list[str], sequence: int, capacity: int = 1) -> TechnicianAvailable:
    return TechnicianAvailable(
        technician_id=technician,
        account_id=ACCOUNT,
        display_name=technician.title(),
        company_ids=companies,
        capacity=capacity,
        sequence=sequence,
    )


def unavailable(technician: str, companies: list[str], sequence: int) -> TechnicianUnavailable:
    return TechnicianUnavailable(
        technician_id=technician, account_id=ACCOUNT, company_ids=companies, reason="chosen", sequence=sequence
    )


def updated(
    technician: str, companies: list[str], revision: int, capacity: int = 1, enabled: bool = True
) -> TechnicianUpdated:
    return TechnicianUpdated(
        technician_id=technician,
        account_id=ACCOUNT,
        display_name=technician.title(),
        company_ids=companies,
        capacity=capacity,
        enabled=enabled,
        revision=revision,
    )


def cancelled(request_id: str, company: str, technician: str | None = None) -> RequestCancelled:
    return RequestCancelled(request_id=request_id, account_id=ACCOUNT, company_id=company, technician_id=technician)


def started(request_id: str, company: str, technician: str) -> ChatSessionStarted:
    return ChatSessionStarted(
        session_id=f"cht_{request_id}",
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        technician_id=technician,
    )


def ended(request_id: str, company: str, technician: str) -> ChatSessionEnded:
    return ChatSessionEnded(
        session_id=f"cht_{request_id}",
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        technician_id=technician,
        ended_by="technician",
        outcome="resolved",
    )


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"
