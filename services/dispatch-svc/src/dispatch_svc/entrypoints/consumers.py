"""FastStream subscribers, each a one-line call into a use case, retried in place on transient
store errors: the events about one company through the company partitions (or, with
partitions off, one durable queue per event), technician events on one queue per event."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.rabbit import Channel, RabbitBroker
from pymongo.errors import AutoReconnect, OperationFailure

from contracts import (
    ChatSessionEnded,
    CompanyUpdated,
    Envelope,
    EventPayload,
    PortalConfigured,
    RequestCancelled,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
)
from dispatch_svc.adapters.contention import CONTENTION
from dispatch_svc.entrypoints.partitions import Partitions
from dispatch_svc.handlers import Handlers
from servicekit.broker import delivery_may_repeat, subscribe
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
            CONTENTION.retries += 1
            log.info("transient store error, retrying", attempt=attempt, error=str(error)[:200])
            await asyncio.sleep(0.05 * attempt)


PARTITIONED: tuple[type[EventPayload], ...] = (
    RequestSubmitted,
    RequestCancelled,
    ChatSessionEnded,
    PortalConfigured,
    CompanyUpdated,
)
"""The events about one company: with partitions on, they reach dispatch through its company
partitions (`entrypoints.partitions`), in order per company."""


def register(broker: RabbitBroker, service: str, handlers: Handlers, partitions: Partitions | None = None) -> None:
    def consume(payload: type) -> Callable:
        channel = Channel(prefetch_count=handlers.settings.consumer_prefetch)
        return subscribe(broker, service, payload, channel=channel)

    def retried(handle: Callable[[Any], Awaitable[None]]) -> Callable[[Envelope[Any]], Awaitable[None]]:
        async def run(event: Envelope[Any]) -> None:
            await retry_transient_store_errors(lambda: handle(event))

        return run

    async def chat_ended(event: Envelope[ChatSessionEnded]) -> None:
        request = await handlers.lifecycle.session_ended(event)
        if request is not None:  # a chat may end between two technicians: the request ends too
            await handlers.transfers.chat_ended(event, request)
            # Its guests let go and a pending hand-over dropped (nothing to do costs nothing).
            await handlers.invitations.chat_over(request)

    company_events: dict[type[EventPayload], Callable[[Envelope[Any]], Awaitable[None]]] = {
        # A first delivery skips the check for a request already archived (a store command).
        RequestSubmitted: retried(lambda e: handlers.lifecycle.submitted(e, may_repeat=delivery_may_repeat())),
        RequestCancelled: retried(handlers.lifecycle.cancelled),
        ChatSessionEnded: retried(chat_ended),
        PortalConfigured: retried(handlers.lifecycle.portal_configured),
        CompanyUpdated: retried(handlers.companies.company_updated),
    }
    if partitions is not None:
        partitions.register(broker, company_events)
    else:

        @consume(RequestSubmitted)
        async def request_submitted(event: Envelope[RequestSubmitted]) -> None:
            await company_events[RequestSubmitted](event)

        @consume(RequestCancelled)
        async def request_cancelled(event: Envelope[RequestCancelled]) -> None:
            await company_events[RequestCancelled](event)

        @consume(ChatSessionEnded)
        async def chat_session_ended(event: Envelope[ChatSessionEnded]) -> None:
            await company_events[ChatSessionEnded](event)

        @consume(PortalConfigured)
        async def portal_configured(event: Envelope[PortalConfigured]) -> None:
            await company_events[PortalConfigured](event)

        @consume(CompanyUpdated)
        async def company_updated(event: Envelope[CompanyUpdated]) -> None:
            await company_events[CompanyUpdated](event)

    # A technician event concerns several companies: it stays on its own competing queue
    # (ordered per technician by its sequence / revision guard, not by the queue).
    @consume(TechnicianAvailable)
    async def technician_available(event: Envelope[TechnicianAvailable]) -> None:
        await retry_transient_store_errors(lambda: handlers.roster.available(event))

    @consume(TechnicianUnavailable)
    async def technician_unavailable(event: Envelope[TechnicianUnavailable]) -> None:
        await retry_transient_store_errors(lambda: handlers.roster.unavailable(event))

    @consume(TechnicianUpdated)
    async def technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await retry_transient_store_errors(lambda: handlers.roster.updated(event))
