"""RabbitMQ subscribers: assignments open (or transfer) sessions, cancellations close them."""

from faststream.rabbit import RabbitBroker

from contracts import Envelope, RequestAssigned, RequestCancelled
from servicekit.broker import subscribe

from chat_svc.handlers.lifecycle import Lifecycle


def register_consumers(broker: RabbitBroker, service: str, lifecycle: Lifecycle) -> None:
    @subscribe(broker, service, RequestAssigned)
    async def on_request_assigned(event: Envelope[RequestAssigned]) -> None:
        await lifecycle.on_assigned(event)

    @subscribe(broker, service, RequestCancelled)
    async def on_request_cancelled(event: Envelope[RequestCancelled]) -> None:
        await lifecycle.on_cancelled(event)
