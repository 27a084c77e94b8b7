"""RabbitMQ topology and the broker factory.

Each service consumes from durable quorum queues named `<service>.<routing key>`, bound to
the one topic exchange. Quorum queues count deliveries: a message that keeps failing is
dead-lettered after `DELIVERY_LIMIT` attempts instead of looping forever, and a message
that cannot even be parsed is rejected straight to the service's `.dlq`.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.exceptions import RequestValidationError
from faststream import AckPolicy, BaseMiddleware
from faststream.exceptions import RejectMessage
from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
import structlog
from pydantic import ValidationError

from contracts import DEAD_LETTER_EXCHANGE, EVENTS_EXCHANGE, EventPayload
from servicekit.logging import get_logger

DELIVERY_LIMIT = 5

EVENTS = RabbitExchange(EVENTS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTERS = RabbitExchange(DEAD_LETTER_EXCHANGE, type=ExchangeType.TOPIC, durable=True)

log = get_logger(__name__)


def queue_name(service: str, payload: type[EventPayload]) -> str:
    return f"{service}.{payload.routing_key()}"


def service_queue(service: str, payload: type[EventPayload]) -> RabbitQueue:
    return RabbitQueue(
        queue_name(service, payload),
        queue_type=QueueType.QUORUM,
        durable=True,
        routing_key=payload.routing_key(),
        arguments={
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": f"{service}.{payload.routing_key()}",
            "x-delivery-limit": DELIVERY_LIMIT,
        },
    )


def dead_letter_queue(service: str) -> RabbitQueue:
    return RabbitQueue(f"{service}.dlq", durable=True, routing_key=f"{service}.#")


class EventContext(BaseMiddleware):
    """Logs handler entry with the event and correlation ids, and dead-letters poison.

    A message that does not validate can never succeed, so it is rejected at once (to the
    service's `.dlq`) instead of being redelivered until the delivery limit.
    """

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        with structlog.contextvars.bound_contextvars(
            event_id=msg.message_id,
            correlation_id=msg.correlation_id,
            routing_key=getattr(msg.raw_message, "routing_key", None),
        ):
            log.info("event received")
            try:
                return await call_next(msg)
            except (ValidationError, RequestValidationError, json.JSONDecodeError) as error:
                log.warning("poison message dead-lettered", error=str(error)[:500])
                raise RejectMessage() from error


def make_broker(url: str, *, service: str) -> RabbitBroker:
    return RabbitBroker(
        url,
        app_id=service,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=(EventContext,),
        # The services stay up (and say so on /ready) while RabbitMQ is unreachable.
        fail_fast=False,
        reconnect_interval=2.0,
        graceful_timeout=10.0,
    )


def subscribe(broker: RabbitBroker, service: str, payload: type[EventPayload], **options: Any):
    """Decorator: consume every `payload` event from this service's own queue."""
    return broker.subscriber(
        service_queue(service, payload),
        EVENTS,
        title=f"{queue_name(service, payload)}:consume",
        description=payload.__doc__,
        **options,
    )


async def declare_dead_letters(broker: RabbitBroker, service: str) -> None:
    exchange = await broker.declare_exchange(DEAD_LETTERS)
    queue = await broker.declare_queue(dead_letter_queue(service))
    await queue.bind(exchange, routing_key=f"{service}.#")


async def wait_until_connected(broker: RabbitBroker, timeout: float) -> None:
    """Start the broker, retrying while RabbitMQ is still coming up."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await broker.start()
            return
        except Exception as error:  # aio-pika raises several connection error types
            if asyncio.get_running_loop().time() > deadline:
                raise
            log.warning("broker not reachable yet, retrying", error=str(error))
            await asyncio.sleep(1.0)
