"""FastStream subscribers: one durable queue per consumed event, thin calls into the use cases."""

import asyncio
from collections.abc import Awaitable, Callable

from faststream.rabbit import Channel, RabbitBroker
from pymongo.errors import AutoReconnect, OperationFailure

from contracts import (
    ChatSessionEnded,
    Envelope,
    PortalConfigured,
    RequestCancelled,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
)
from servicekit.broker import subscribe
from servicekit.logging import get_logger

from dispatch_svc.handlers import lifecycle
from dispatch_svc.handlers.routing import Dispatch

log = get_logger(__name__)

ATTEMPTS = 5


def transient(error: Exception) -> bool:
    """Store errors worth an immediate retry (the embedded server's write lock, failovers)."""
    return isinstance(error, AutoReconnect) or (
        isinstance(error, OperationFailure) and "locked" in str(error).lower()
    )


async def run(handler: Callable[[], Awaitable[None]]) -> None:
    """Runs an idempotent handler, retrying transient store errors in place.

    A nack would also retry, but each one uses up one of the queue's few deliveries
    before the message is dead-lettered; contention is not poison.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await handler()
        except Exception as error:
            if attempt == ATTEMPTS or not transient(error):
                raise
            log.info("transient store error, retrying", attempt=attempt, error=str(error)[:200])
            await asyncio.sleep(0.05 * attempt)


def register_consumers(broker: RabbitBroker, service: str, dispatch: Dispatch) -> None:
    def consume(payload: type) -> Callable:
        return subscribe(broker, service, payload, channel=Channel(prefetch_count=dispatch.settings.consumer_prefetch))

    @consume(RequestSubmitted)
    async def request_submitted(event: Envelope[RequestSubmitted]) -> None:
        await run(lambda: lifecycle.on_submitted(dispatch, event))

    @consume(RequestCancelled)
    async def request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await run(lambda: lifecycle.on_cancelled(dispatch, event))

    @consume(TechnicianAvailable)
    async def technician_available(event: Envelope[TechnicianAvailable]) -> None:
        await run(lambda: lifecycle.on_available(dispatch, event))

    @consume(TechnicianUnavailable)
    async def technician_unavailable(event: Envelope[TechnicianUnavailable]) -> None:
        await run(lambda: lifecycle.on_unavailable(dispatch, event))

    @consume(TechnicianUpdated)
    async def technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await run(lambda: lifecycle.on_technician_updated(dispatch, event))

    @consume(PortalConfigured)
    async def portal_configured(event: Envelope[PortalConfigured]) -> None:
        await run(lambda: lifecycle.on_portal_configured(dispatch, event))

    @consume(ChatSessionEnded)
    async def chat_session_ended(event: Envelope[ChatSessionEnded]) -> None:
        await run(lambda: lifecycle.on_session_ended(dispatch, event))
