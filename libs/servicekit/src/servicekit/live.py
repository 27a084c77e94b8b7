"""Live frames between replicas: what one replica must tell sockets held by any replica.

A service with WebSockets (chat, presence) runs on any number of replicas, and the socket
that should see a frame may be held by another one. Each replica publishes live frames to
the topic exchange `assistline.live` and consumes them from its own queue — exclusive,
auto-deleted when the replica goes away — bound to its service's topics. Every replica gets
every frame of its service and hands it to the sockets it holds, if any.

Live frames are at most once by design: anything a client must not miss is stored first
(messages, alerts) and a client that reconnects resumes from the store. So the queue is
transient, and a frame published while RabbitMQ is down is dropped with a warning.
"""

import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue
from pydantic import BaseModel, Field

from servicekit.broker import LIVE_EXCHANGE
from servicekit.logging import get_logger
from servicekit.outbox import TRANSIENT

log = get_logger(__name__)

LIVE = RabbitExchange(LIVE_EXCHANGE, type=ExchangeType.TOPIC, durable=True)


class LiveFrame(BaseModel):
    """One frame for the sockets of one topic, whichever replica holds them."""

    topic: str = Field(description="What the frame is about, e.g. `session.cht_1` or `technician.tec_ana`.")
    frame: dict[str, Any] = Field(description="The JSON frame, as the socket will send it.")
    origin: str = Field(description="Replica that published it.")


Deliver = Callable[[LiveFrame], Awaitable[None]]


def replica_id() -> str:
    """Unique per process: host, pid and a random suffix (pids repeat across containers)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class LiveFanout:
    def __init__(self, broker: RabbitBroker, service: str, replica: str | None = None) -> None:
        self._broker = broker
        self._service = service
        self.replica = replica or replica_id()
        self._publisher = broker.publisher(exchange=LIVE, include_in_schema=False)

    def _routing_key(self, topic: str) -> str:
        return f"{self._service}.{topic}"

    def subscribe(self, deliver: Deliver) -> None:
        """Consume every frame of this service from this replica's own queue."""
        queue = RabbitQueue(
            f"{self._service}.live.{self.replica}",
            exclusive=True,
            auto_delete=True,
            durable=False,
            routing_key=f"{self._service}.#",
        )

        @self._broker.subscriber(queue, LIVE, ack_policy=AckPolicy.ACK_FIRST, include_in_schema=False)
        async def on_frame(frame: LiveFrame) -> None:
            await deliver(frame)

    async def publish(self, topic: str, frame: dict[str, Any]) -> None:
        message = LiveFrame(topic=topic, frame=frame, origin=self.replica)
        try:
            await self._publisher.publish(
                message.model_dump(mode="json"), routing_key=self._routing_key(topic), persist=False
            )
        except TRANSIENT as error:  # at most once: the client resumes from the store
            log.warning("live frame dropped", topic=topic, error=f"{type(error).__name__}: {error}")
