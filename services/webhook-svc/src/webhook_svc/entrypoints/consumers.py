"""RabbitMQ subscribers: every subscribable event is recorded for the endpoints of its account.

The message is acknowledged only once its deliveries are recorded: a process killed before
that gets it redelivered, and recording again is harmless.
"""

from faststream.rabbit import RabbitBroker

from contracts import Envelope, EventPayload
from servicekit.broker import subscribe
from webhook_svc.domain.model import SUBSCRIBABLE
from webhook_svc.handlers import Handlers


def register(broker: RabbitBroker, service: str, handlers: Handlers) -> None:
    for payload in SUBSCRIBABLE:
        _subscribe(broker, service, handlers, payload)


def _subscribe(broker: RabbitBroker, service: str, handlers: Handlers, payload: type[EventPayload]) -> None:
    # The annotation (evaluated here, per event type) tells FastStream which envelope to validate.
    async def on_event(event: Envelope[payload]) -> None:  # type: ignore[valid-type]
        await handlers.recording.on_event(event)

    on_event.__name__ = f"on_{payload.event_type}"
    subscribe(broker, service, payload)(on_event)
