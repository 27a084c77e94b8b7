"""FastStream subscribers: presence, dispatch and chat events feeding portal-svc's read models."""

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
)
from servicekit.broker import subscribe

from portal_svc.handlers import events
from portal_svc.handlers.context import Context


def register_consumers(ctx: Context) -> None:
    broker, service = ctx.runtime.broker, ctx.runtime.service

    @subscribe(broker, service, TechnicianAvailable)
    async def on_technician_available(event: Envelope[TechnicianAvailable]) -> None:
        await events.technician_available(ctx, event.data)

    @subscribe(broker, service, TechnicianUnavailable)
    async def on_technician_unavailable(event: Envelope[TechnicianUnavailable]) -> None:
        await events.technician_unavailable(ctx, event.data)

    @subscribe(broker, service, RequestQueued)
    async def on_request_queued(event: Envelope[RequestQueued]) -> None:
        await events.request_queued(ctx, event)

    @subscribe(broker, service, RequestOffered)
    async def on_request_offered(event: Envelope[RequestOffered]) -> None:
        await events.request_offered(ctx, event)

    @subscribe(broker, service, RequestAssigned)
    async def on_request_assigned(event: Envelope[RequestAssigned]) -> None:
        await events.request_assigned(ctx, event)

    @subscribe(broker, service, RequestRejected)
    async def on_request_rejected(event: Envelope[RequestRejected]) -> None:
        await events.request_rejected(ctx, event)

    @subscribe(broker, service, ChatSessionStarted)
    async def on_chat_started(event: Envelope[ChatSessionStarted]) -> None:
        await events.chat_started(ctx, event)

    @subscribe(broker, service, ChatSessionEnded)
    async def on_chat_ended(event: Envelope[ChatSessionEnded]) -> None:
        await events.chat_ended(ctx, event)
