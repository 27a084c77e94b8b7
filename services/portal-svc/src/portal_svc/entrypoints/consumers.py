"""Subscribers: the events portal-svc's read models follow (one per event type)."""

from faststream.rabbit import RabbitBroker

from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    RequestAssigned,
    RequestOffered,
    RequestQueued,
    RequestRejected,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
)
from portal_svc.handlers import Handlers
from servicekit.broker import subscribe


def register(broker: RabbitBroker, service: str, handlers: Handlers) -> None:
    availability, status = handlers.availability, handlers.request_status

    # Our own event: the availability read model takes company lists from it.
    @subscribe(broker, service, TechnicianUpdated)
    async def on_technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await availability.technician_updated(event.data)

    @subscribe(broker, service, TechnicianAvailable)
    async def on_technician_available(event: Envelope[TechnicianAvailable]) -> None:
        await availability.technician_available(event.data)

    @subscribe(broker, service, TechnicianUnavailable)
    async def on_technician_unavailable(event: Envelope[TechnicianUnavailable]) -> None:
        await availability.technician_unavailable(event.data)

    @subscribe(broker, service, RequestQueued)
    async def on_request_queued(event: Envelope[RequestQueued]) -> None:
        await status.queued(event)

    @subscribe(broker, service, RequestOffered)
    async def on_request_offered(event: Envelope[RequestOffered]) -> None:
        await status.offered(event)

    @subscribe(broker, service, RequestAssigned)
    async def on_request_assigned(event: Envelope[RequestAssigned]) -> None:
        await status.assigned(event)

    @subscribe(broker, service, RequestRejected)
    async def on_request_rejected(event: Envelope[RequestRejected]) -> None:
        await status.rejected(event)

    @subscribe(broker, service, ChatSessionStarted)
    async def on_chat_started(event: Envelope[ChatSessionStarted]) -> None:
        await status.chat_started(event)

    @subscribe(broker, service, ChatSessionEnded)
    async def on_chat_ended(event: Envelope[ChatSessionEnded]) -> None:
        await status.chat_ended(event)
