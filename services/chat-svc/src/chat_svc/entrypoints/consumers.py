"""RabbitMQ subscribers: assignments open (or transfer) sessions, cancellations close them,
technician updates keep chat-svc's record of who may act for which company."""

from faststream.rabbit import RabbitBroker

from chat_svc.handlers import Handlers
from contracts import Envelope, RequestAssigned, RequestCancelled, TechnicianUpdated
from servicekit.broker import subscribe


def register(broker: RabbitBroker, service: str, handlers: Handlers) -> None:
    @subscribe(broker, service, RequestAssigned)
    async def on_request_assigned(event: Envelope[RequestAssigned]) -> None:
        await handlers.lifecycle.on_assigned(event)

    @subscribe(broker, service, RequestCancelled)
    async def on_request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await handlers.lifecycle.on_cancelled(event)

    @subscribe(broker, service, TechnicianUpdated)
    async def on_technician_updated(event: Envelope[TechnicianUpdated]) -> None:
        await handlers.technicians.on_updated(event)
