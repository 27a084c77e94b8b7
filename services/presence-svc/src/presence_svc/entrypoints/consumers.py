"""Events presence-svc consumes, each from its own durable queue: one line into a use case."""

from faststream.rabbit import RabbitBroker

from contracts import (
    ChatSessionEnded,
    Envelope,
    PortalConfigured,
    RequestAcknowledged,
    RequestAssigned,
    RequestCancelled,
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
    RequestOffered,
    RequestOfferWithdrawn,
    RequestReturnedToQueue,
    RequestTransferLapsed,
    RequestTransferOffered,
    RequestTransferred,
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
        # The asks first: once an alert shows, a click may take the request and its
        # withdrawal (another queue) forget the asks — which must be there by then.
        await handlers.streak.offered(event)
        await handlers.alerts.offered(event)

    @subscribe(broker, service, RequestAssigned)
    async def request_assigned(event: Envelope[RequestAssigned]) -> None:
        # The streak's write on the assignee doubles as the alert's re-read of them.
        assignee = await handlers.alerts.assigned(event, lambda: handlers.streak.assigned(event))
        await handlers.presence.announce(event.data.technician_id, assignee)

    @subscribe(broker, service, RequestAcknowledged)
    async def request_acknowledged(event: Envelope[RequestAcknowledged]) -> None:
        await handlers.streak.acknowledged(event)

    @subscribe(broker, service, RequestOfferWithdrawn)
    async def request_offer_withdrawn(event: Envelope[RequestOfferWithdrawn]) -> None:
        await handlers.alerts.offer_withdrawn(event)
        await handlers.streak.withdrawn(event)

    @subscribe(broker, service, RequestCancelled)
    async def request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await handlers.alerts.cancelled(event)
        await handlers.streak.cancelled(event)

    @subscribe(broker, service, RequestTransferOffered)
    async def request_transfer_offered(event: Envelope[RequestTransferOffered]) -> None:
        await handlers.transfers.offered(event)

    @subscribe(broker, service, RequestTransferred)
    async def request_transferred(event: Envelope[RequestTransferred]) -> None:
        await handlers.transfers.transferred(event)

    @subscribe(broker, service, RequestReturnedToQueue)
    async def request_returned(event: Envelope[RequestReturnedToQueue]) -> None:
        await handlers.transfers.returned(event)

    @subscribe(broker, service, RequestTransferLapsed)
    async def request_transfer_lapsed(event: Envelope[RequestTransferLapsed]) -> None:
        await handlers.transfers.lapsed(event)

    @subscribe(broker, service, RequestColleagueInvited)
    async def request_colleague_invited(event: Envelope[RequestColleagueInvited]) -> None:
        await handlers.invitations.offered(event)

    @subscribe(broker, service, RequestInvitationLapsed)
    async def request_invitation_lapsed(event: Envelope[RequestInvitationLapsed]) -> None:
        await handlers.invitations.lapsed(event)

    @subscribe(broker, service, RequestColleagueJoined)
    async def request_colleague_joined(event: Envelope[RequestColleagueJoined]) -> None:
        await handlers.invitations.joined(event)

    @subscribe(broker, service, RequestColleagueLeft)
    async def request_colleague_left(event: Envelope[RequestColleagueLeft]) -> None:
        await handlers.invitations.left(event)

    @subscribe(broker, service, ChatSessionEnded)
    async def chat_session_ended(event: Envelope[ChatSessionEnded]) -> None:
        await handlers.streak.session_ended(event)
