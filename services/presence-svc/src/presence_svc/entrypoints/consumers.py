"""Events presence-svc consumes, each from its own durable queue: one line into a use case."""

from faststream.rabbit import RabbitBroker

from contracts import (
    Envelope,
    PortalConfigured,
    RequestAssigned,
    RequestCancelled,
    RequestOffered,
    RequestOfferWithdrawn,
    TechnicianUpdated,
)
from presence_svc.handlers import Handlers
from servicekit.broker import subscribe


def register(broker: RabbitBroker, service: str, handlers: Handlers) -> None:
    @subscribe(broker, service, TechnicianUpdated)
    async def technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await handlers.technicians.updated(event.data, event.correlation_id)

    @subscribe(broker, service, PortalConfigured)
    async def portal_configured(event: Envelope[PortalConfigured]) -> None:
        await handlers.presence.portal_configured(event.data, event.correlation_id)

    @subscribe(broker, service, RequestOffered)
    async def request_offered(event: Envelope[RequestOffered]) -> None:
        await handlers.alerts.offered(event)

    @subscribe(broker, service, RequestAssigned)
    async def request_assigned(event: Envelope[RequestAssigned]) -> None:
        await handlers.alerts.assigned(event)

    @subscribe(broker, service, RequestOfferWithdrawn)
    async def request_offer_withdrawn(event: Envelope[RequestOfferWithdrawn]) -> None:
        await handlers.alerts.offer_withdrawn(event)

    @subscribe(broker, service, RequestCancelled)
    async def request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await handlers.alerts.cancelled(event)
