"""Events presence-svc consumes, each from its own durable queue."""

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
from servicekit.broker import subscribe

from presence_svc.handlers.alerts import AlertHandlers
from presence_svc.handlers.presence import PresenceHandlers


def register_consumers(
    broker: RabbitBroker, service: str, presence: PresenceHandlers, alerts: AlertHandlers
) -> None:
    @subscribe(broker, service, TechnicianUpdated)
    async def technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await presence.technician_updated(event.data, event.correlation_id)

    @subscribe(broker, service, PortalConfigured)
    async def portal_configured(event: Envelope[PortalConfigured]) -> None:
        await presence.portal_configured(event.data, event.correlation_id)

    @subscribe(broker, service, RequestOffered)
    async def request_offered(event: Envelope[RequestOffered]) -> None:
        await alerts.offered(event)

    @subscribe(broker, service, RequestAssigned)
    async def request_assigned(event: Envelope[RequestAssigned]) -> None:
        await alerts.assigned(event)

    @subscribe(broker, service, RequestOfferWithdrawn)
    async def request_offer_withdrawn(event: Envelope[RequestOfferWithdrawn]) -> None:
        await alerts.offer_withdrawn(event)

    @subscribe(broker, service, RequestCancelled)
    async def request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await alerts.cancelled(event)
