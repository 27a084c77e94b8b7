"""RabbitMQ topology and the broker factory.

Each service consumes from durable quorum queues named `<service>.<routing key>`, bound to
the one topic exchange. Quorum queues count deliveries: a message that keeps failing is
dead-lettered after `DELIVERY_LIMIT` attempts instead of looping forever, and a message
that cannot even be parsed is rejected straight to the service's `.dlq`.
"""

import asyncio
import contextvars
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from fastapi.exceptions import RequestValidationError
from faststream import AckPolicy, BaseMiddleware
from faststream.exceptions import AckMessage, NackMessage, RejectMessage
from faststream.rabbit import ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from pydantic import ValidationError

from contracts import DEAD_LETTER_EXCHANGE, EVENTS_EXCHANGE, EventPayload
from servicekit.logging import FASTSTREAM_LOGGER, get_logger
from servicekit.metrics import Metrics
from servicekit.tracing import Tracing

DELIVERY_LIMIT = 5
LIVE_EXCHANGE = "assistline.live"

EVENTS = RabbitExchange(EVENTS_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
DEAD_LETTERS = RabbitExchange(DEAD_LETTER_EXCHANGE, type=ExchangeType.TOPIC, durable=True)

log = get_logger(__name__)

MAYBE_REPEAT_HEADER = "x-assistline-maybe-repeat"
"""Set on a publication that may repeat an earlier one of the same event: the outbox
sweeper's, and a retry after a failed publication (`servicekit.outbox`)."""
_MAY_REPEAT: contextvars.ContextVar[bool] = contextvars.ContextVar("delivery_may_repeat", default=True)


def delivery_may_repeat() -> bool:
    """False only while handling a message that is certainly its event's first delivery: not
    redelivered by RabbitMQ, not dead-lettered before (`x-death`), not a publication the outbox
    marked as a possible repeat. Outside a consumer (a test calling a handler, a sweep): True.
    A handler may skip a guard against repeats, and its store command, when this is False."""
    return _MAY_REPEAT.get()


def _may_repeat(msg: Any) -> bool:
    raw = msg.raw_message
    headers = getattr(raw, "headers", None) or {}
    return bool(getattr(raw, "redelivered", True) or headers.get(MAYBE_REPEAT_HEADER) or "x-death" in headers)


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


def _event_type(msg: Any) -> str | None:
    """The envelope's `type`, read from the raw body: the line is written even for poison."""
    try:
        body = json.loads(msg.body)
    except (ValueError, TypeError):
        return None
    return body.get("type") if isinstance(body, dict) else None


class EventContext(BaseMiddleware):
    """One INFO line per consumed message, written when its handling ends, and dead-lettering
    of poison.

    The line names the event (type, id, correlation id, routing key), the outcome (`ack`,
    `nack`: redelivered until the queue's delivery limit, `reject`: straight to the `.dlq`),
    the duration, and the traceback when the handler failed. The ids are bound for the whole
    handling, so every line logged meanwhile (ours or a library's) carries them too.

    A message that does not validate can never succeed, so it is rejected at once (to the
    service's `.dlq`) instead of being redelivered until the delivery limit.

    The same outcome and duration feed the service's metrics (per event type), when given.
    """

    def __init__(self, msg: Any, /, *, context: Any, metrics: Metrics | None = None) -> None:
        super().__init__(msg, context=context)
        self.metrics = metrics

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        repeat = _MAY_REPEAT.set(_may_repeat(msg))
        try:
            return await self._consume(call_next, msg)
        finally:
            _MAY_REPEAT.reset(repeat)

    async def _consume(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        with structlog.contextvars.bound_contextvars(
            event_type=_event_type(msg),
            event_id=msg.message_id,
            correlation_id=msg.correlation_id,
            routing_key=getattr(msg.raw_message, "routing_key", None),
        ):
            started = time.perf_counter()
            outcome = "ack"
            failure: BaseException | None = None
            try:
                return await call_next(msg)
            except (ValidationError, RequestValidationError, json.JSONDecodeError) as error:
                outcome, failure = "reject", error
                raise RejectMessage() from error
            except RejectMessage as error:
                outcome, failure = "reject", error
                raise
            except NackMessage:
                outcome = "nack"
                raise
            except AckMessage:
                raise
            except Exception as error:
                # NACK_ON_ERROR: redelivered, dead-lettered once the delivery limit is reached.
                outcome, failure = "nack", error
                raise
            finally:
                elapsed = time.perf_counter() - started
                fields: dict[str, Any] = {"outcome": outcome, "duration_ms": round(elapsed * 1000, 1)}
                if failure is not None and outcome == "reject":
                    fields["error"] = str(failure)[:500]
                if failure is not None and outcome == "nack":
                    fields["exc_info"] = failure
                if getattr(msg.raw_message, "exchange", None) == LIVE_EXCHANGE and failure is None:
                    # Live frames between replicas are chatter, not events.
                    log.debug("live frame consumed", **fields)
                else:
                    if self.metrics is not None:
                        self.metrics.event_consumed(_event_type(msg), outcome, elapsed)
                    level = {"ack": logging.INFO, "reject": logging.WARNING}.get(outcome, logging.ERROR)
                    log.log(level, "event consumed", **fields)


SPECIFICATION_URL = "amqp://rabbitmq:5672/"


def make_broker(
    url: str, *, service: str, metrics: Metrics | None = None, tracing: Tracing | None = None, **options: Any
) -> RabbitBroker:
    """The service's broker. FastStream's own per-message "Received"/"Processed" lines go to
    DEBUG: `EventContext` writes the one INFO line per message (and counts it in `metrics`).
    With tracing on, a CONSUMER span wraps it all (first middleware = outermost), so the
    handler's writes, the events it stages and its log lines belong to the message's trace."""
    consumer_span = tracing.consumer_middleware() if tracing is not None else None
    return RabbitBroker(
        url,
        app_id=service,
        # The AsyncAPI document names a stable server, never the run's URL (vhost, credentials).
        specification_url=SPECIFICATION_URL,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=(
            *([consumer_span] if consumer_span is not None else []),
            functools.partial(EventContext, metrics=metrics),
        ),
        logger=logging.getLogger(FASTSTREAM_LOGGER),
        log_level=logging.DEBUG,
        # The services stay up (and say so on /ready) while RabbitMQ is unreachable.
        fail_fast=False,
        reconnect_interval=2.0,
        graceful_timeout=10.0,
        **options,
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
