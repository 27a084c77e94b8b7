"""FastStream subscribers: one durable queue per consumed event, each a one-line call into a
use case, retried in place on transient store errors."""

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
from dispatch_svc.handlers import Handlers
from servicekit.broker import subscribe
from servicekit.logging import get_logger

log = get_logger(__name__)

ATTEMPTS = 5


def is_transient_store_error(error: Exception) -> bool:
    """Store errors worth an immediate retry (the embedded server's write lock, failovers)."""
    return isinstance(error, AutoReconnect) or (isinstance(error, OperationFailure) and "locked" in str(error).lower())


async def retry_transient_store_errors(handle: Callable[[], Awaitable[None]]) -> None:
    """Runs an idempotent handler, retrying transient store errors in place.

    A nack would also retry, but each one uses up one of the queue's few deliveries
    before the message is dead-lettered; contention is not poison.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await handle()
        except Exception as error:
            if attempt == ATTEMPTS or not is_transient_store_error(error):
                raise
            log.info("transient store error, retrying", attempt=attempt, error=str(error)[:200])
            await asyncio.sleep(0.05 * attempt)


def register(broker: RabbitBroker, service: str, handlers: Handlers) -> None:
    def consume(payload: type) -> Callable:
        channel = Channel(prefetch_count=handlers.settings.consumer_prefetch)
        return subscribe(broker, service, payload, channel=channel)

    @consume(RequestSubmitted)
    async def request_submitted(event: Envelope[RequestSubmitted]) -> None:
        await retry_transient_store_errors(lambda: handlers.lifecycle.submitted(event))

    @consume(RequestCancelled)
    async def request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await retry_transient_store_errors(lambda: handlers.lifecycle.cancelled(event))

    @consume(ChatSessionEnded)
    async def chat_session_ended(event: Envelope[ChatSessionEnded]) -> None:
        await retry_transient_store_errors(lambda: handlers.lifecycle.session_ended(event))

    @consume(PortalConfigured)
    async def portal_configured(event: Envelope[PortalConfigured]) -> None:
        await retry_transient_store_errors(lambda: handlers.lifecycle.portal_configured(event))

    @consume(TechnicianAvailable)
    async def technician_available(event: Envelope[TechnicianAvailable]) -> None:
        await retry_transient_store_errors(lambda: handlers.roster.available(event))

    @consume(TechnicianUnavailable)
    async def technician_unavailable(event: Envelope[TechnicianUnavailable]) -> None:
        await retry_transient_store_errors(lambda: handlers.roster.unavailable(event))

    @consume(TechnicianUpdated)
    async def technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await retry_transient_store_errors(lambda: handlers.roster.updated(event))
