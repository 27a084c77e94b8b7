"""Subscribers: the events portal-svc's read models follow (one per event type)."""

from faststream.rabbit import RabbitBroker

from contracts import (
    ChatSessionEnded,
    ChatSessionRated,
    ChatSessionStarted,
    Envelope,
    OfflineMessageAnswered,
    OfflineMessageLeft,
    RequestAssigned,
    RequestCancelled,
    RequestOffered,
    RequestQueued,
    RequestRejected,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
    WebhookEndpointDisabled,
)
from portal_svc.handlers import Handlers
from servicekit.broker import subscribe


def register(broker: RabbitBroker, service: str, handlers: Handlers) -> None:
    availability, status = handlers.availability, handlers.request_status

    async def _tell_waiting_customers(company_ids: list[str]) -> None:
        # A Web customer's screen says when nobody is left to answer, and a queue's estimate
        # depends on who serves it: their sockets re-read their status.
        for company_id in company_ids:
            await status.changed(company_id)

    # Our own event: the availability read model takes company lists from it.
    @subscribe(broker, service, TechnicianUpdated)
    async def on_technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await availability.technician_updated(event.data)

    @subscribe(broker, service, TechnicianAvailable)
    async def on_technician_available(event: Envelope[TechnicianAvailable]) -> None:
        if await availability.technician_available(event.data):
            await handlers.dashboard.technician_changed(event)
        await _tell_waiting_customers(event.data.company_ids)

    @subscribe(broker, service, TechnicianUnavailable)
    async def on_technician_unavailable(event: Envelope[TechnicianUnavailable]) -> None:
        if await availability.technician_unavailable(event.data):
            await handlers.dashboard.technician_changed(event)
        await _tell_waiting_customers(event.data.company_ids)

    # The dashboard follows the request records that the status moves leave (one write each),
    # and counts a request into its day when its finishing move is done.
    @subscribe(broker, service, RequestQueued)
    async def on_request_queued(event: Envelope[RequestQueued]) -> None:
        await handlers.dashboard.moved(event, await status.queued(event))

    @subscribe(broker, service, RequestOffered)
    async def on_request_offered(event: Envelope[RequestOffered]) -> None:
        await handlers.dashboard.moved(event, await status.offered(event))

    @subscribe(broker, service, RequestAssigned)
    async def on_request_assigned(event: Envelope[RequestAssigned]) -> None:
        await handlers.dashboard.moved(event, await status.assigned(event))

    @subscribe(broker, service, RequestRejected)
    async def on_request_rejected(event: Envelope[RequestRejected]) -> None:
        await handlers.dashboard.finished(event, await status.rejected(event))

    @subscribe(broker, service, ChatSessionStarted)
    async def on_chat_started(event: Envelope[ChatSessionStarted]) -> None:
        await handlers.dashboard.moved(event, await status.chat_started(event))

    @subscribe(broker, service, ChatSessionEnded)
    async def on_chat_ended(event: Envelope[ChatSessionEnded]) -> None:
        await handlers.dashboard.finished(event, await status.chat_ended(event))

    # Our own event: the customer panel's history of requests per customer e-mail.
    @subscribe(broker, service, RequestSubmitted)
    async def on_request_submitted(event: Envelope[RequestSubmitted]) -> None:
        await handlers.customer_panel.submitted(event)
        await handlers.dashboard.submitted(event)

    # A request the customer cancelled was moved when asked; the dashboard counts it now.
    @subscribe(broker, service, RequestCancelled)
    async def on_request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await handlers.dashboard.finished(event, await status.cancelled(event))

    @subscribe(broker, service, ChatSessionRated)
    async def on_chat_rated(event: Envelope[ChatSessionRated]) -> None:
        await handlers.dashboard.rated(event)

    # Our own events: the e-mails of offline messages go out after the change is stored.
    @subscribe(broker, service, OfflineMessageLeft)
    async def on_message_left(event: Envelope[OfflineMessageLeft]) -> None:
        await handlers.messages.notify_technicians(event)

    @subscribe(broker, service, OfflineMessageAnswered)
    async def on_message_answered(event: Envelope[OfflineMessageAnswered]) -> None:
        await handlers.messages.send_answer(event)

    @subscribe(broker, service, WebhookEndpointDisabled)
    async def on_webhook_endpoint_disabled(event: Envelope[WebhookEndpointDisabled]) -> None:
        await handlers.webhook_alerts.endpoint_disabled(event)
