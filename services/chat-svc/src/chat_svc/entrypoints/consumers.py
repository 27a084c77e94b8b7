"""RabbitMQ subscribers: assignments open (or transfer) sessions, invited colleagues join and
leave them, cancellations close them,
technician updates keep chat-svc's record of who may act for which company."""

from faststream.rabbit import RabbitBroker

from chat_svc.handlers import Handlers
from contracts import (
    CompanyUpdated,
    Envelope,
    RequestAssigned,
    RequestCancelled,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestReturnedToQueue,
    RequestTransferred,
    TechnicianUpdated,
)
from servicekit.broker import subscribe


def register(broker: RabbitBroker, service: str, handlers: Handlers) -> None:
    @subscribe(broker, service, RequestAssigned)
    async def on_request_assigned(event: Envelope[RequestAssigned]) -> None:
        await handlers.lifecycle.on_assigned(event)

    @subscribe(broker, service, RequestTransferred)
    async def on_request_transferred(event: Envelope[RequestTransferred]) -> None:
        await handlers.lifecycle.on_transferred(event)

    @subscribe(broker, service, RequestReturnedToQueue)
    async def on_request_returned(event: Envelope[RequestReturnedToQueue]) -> None:
        await handlers.lifecycle.on_returned(event)

    @subscribe(broker, service, RequestColleagueJoined)
    async def on_colleague_joined(event: Envelope[RequestColleagueJoined]) -> None:
        await handlers.lifecycle.on_colleague_joined(event)

    @subscribe(broker, service, RequestColleagueLeft)
    async def on_colleague_left(event: Envelope[RequestColleagueLeft]) -> None:
        await handlers.lifecycle.on_colleague_left(event)

    @subscribe(broker, service, RequestCancelled)
    async def on_request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await handlers.lifecycle.on_cancelled(event)

    @subscribe(broker, service, TechnicianUpdated)
    async def on_technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await handlers.technicians.on_updated(event)

    @subscribe(broker, service, CompanyUpdated)
    async def on_company_updated(event: Envelope[CompanyUpdated]) -> None:
        await handlers.companies.on_updated(event)
