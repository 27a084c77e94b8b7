"""OpenTelemetry traces across HTTP and AMQP — off unless an exporter is configured.

One submission is one trace: the portal's HTTP server span, the PRODUCER span of every event
it causes, the CONSUMER span of every service that processes one, and so on down the chain.
The W3C trace context (`traceparent`, `tracestate`) travels in the AMQP message headers.

The outbox is why this is more than a middleware: an event is staged inside the state
document and may be published later, by the sweeper of another replica. So the context of
the span that staged it is stored WITH the staged event (`capture`, field `trace` of an
outbox entry) and restored around its publication (`resumed`), whoever publishes it: the
PRODUCER span is then a child of the span that caused the event, not of the sweeper.

When neither `OTEL_EXPORTER_OTLP_ENDPOINT` nor `TRACES_FILE` is set, `Tracing.off()` holds no
provider and no tracer: no HTTP middleware, no consumer middleware, no headers, and the
OpenTelemetry SDK and exporters are not even imported. What is left on the hot path is
`capture()` reading the (invalid) current span from a context variable.

Spans follow the messaging semantic conventions (`messaging.system=rabbitmq`,
`messaging.destination.name` = the exchange, `messaging.rabbitmq.destination.routing_key`,
`messaging.operation.type` `send` on the producer — what the conventions now call a publish —
and `process` on the consumer, `messaging.message.id`, `messaging.message.conversation_id` =
the correlation id, `messaging.consumer.group.name` = the consuming service).
"""

import contextlib
import json
import os
import threading
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from faststream import BaseMiddleware
from faststream.exceptions import AckMessage
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts import EVENTS_EXCHANGE, Envelope

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from servicekit.settings import ServiceSettings

# W3C Trace Context only (not the global, environment-configurable propagator): what travels
# in a message and what an outbox entry stores must mean the same on every replica.
PROPAGATOR = TraceContextTextMapPropagator()
TRACE_FIELD = "trace"
"""The field of an outbox entry holding the staging span's W3C context."""
SYSTEM = "rabbitmq"
# Probes and scrapes would be most of the spans and tell nothing (regexes on the URL).
EXCLUDED_URLS = "/health$,/ready$,/stats$,/metrics$"


def capture() -> dict[str, str] | None:
    """The W3C context of the current span, to store with an event staged now; None when no
    span is being recorded (tracing off, or a periodic task outside any trace)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier


# What the hooks return when there is nothing to do: no generator, no allocation.
NOTHING: contextlib.AbstractContextManager[None] = contextlib.nullcontext()


def resumed(carrier: Mapping[str, str] | None) -> contextlib.AbstractContextManager[None]:
    """Make the context stored by `capture` current while an event staged under it is published."""
    return _attached(carrier) if carrier else NOTHING


@contextlib.contextmanager
def _attached(carrier: Mapping[str, str]) -> Iterator[None]:
    token = otel_context.attach(PROPAGATOR.extract(dict(carrier)))
    try:
        yield
    finally:
        otel_context.detach(token)


def _event_attributes(event: Envelope[Any], routing_key: str) -> dict[str, Any]:
    return {
        "messaging.system": SYSTEM,
        "messaging.destination.name": EVENTS_EXCHANGE,
        "messaging.rabbitmq.destination.routing_key": routing_key,
        "messaging.message.id": str(event.event_id),
        "messaging.message.conversation_id": event.correlation_id,
        "assistline.event.type": event.type,
    }


def _failed(span: trace.Span, error: BaseException) -> None:
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.set_attribute("error.type", type(error).__qualname__)


class Tracing:
    """One service process's tracer provider, or none at all (`Tracing.off()`)."""

    def __init__(self, service: str, provider: "TracerProvider | None" = None) -> None:
        self.service = service
        self.provider = provider
        self.tracer: Tracer | None = provider.get_tracer("servicekit") if provider is not None else None

    @classmethod
    def off(cls, service: str = "") -> "Tracing":
        return cls(service)

    @classmethod
    def with_processors(cls, service: str, processors: Sequence["SpanProcessor"]) -> "Tracing":
        """A provider exporting through `processors` (tests pass an in-memory exporter)."""
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider

        provider = TracerProvider(
            resource=Resource.create({"service.name": service, "service.instance.id": f"{service}-{os.getpid()}"})
        )
        for processor in processors:
            provider.add_span_processor(processor)
        return cls(service, provider)

    @classmethod
    def from_settings(cls, settings: "ServiceSettings") -> "Tracing":
        """OTLP over HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the exporter reads the other
        `OTEL_EXPORTER_OTLP_*` variables itself), JSON lines when `TRACES_FILE` is; else off."""
        endpoint, path = settings.otel_exporter_otlp_endpoint, settings.traces_file
        if not endpoint and not path:
            return cls.off(settings.service_name)
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        processors: list[SpanProcessor] = []
        if endpoint:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # Batched off the event loop: the hot path only enqueues the ended span.
            processors.append(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")))
        if path:
            # Written as each span ends, so a test (or a developer) reads it at once.
            processors.append(SimpleSpanProcessor(json_lines_exporter(Path(path))))
        return cls.with_processors(settings.service_name, processors)

    @property
    def enabled(self) -> bool:
        return self.tracer is not None

    def instrument(self, app: "FastAPI") -> None:
        """HTTP server spans for every route (and WebSocket) of `app`, when tracing is on."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.metrics import NoOpMeterProvider

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.provider,
            # Metrics are Prometheus' business (servicekit.metrics), not OpenTelemetry's.
            meter_provider=NoOpMeterProvider(),
            excluded_urls=EXCLUDED_URLS,
            # One span per request, not one more per ASGI message sent or received.
            exclude_spans=["receive", "send"],
        )

    def publishing(
        self, event: Envelope[Any], *, routing_key: str, headers: dict[str, Any]
    ) -> contextlib.AbstractContextManager[None]:
        """A PRODUCER span around one publication, child of the current context (the staging
        span, see `resumed`); its context is written into `headers` for the consumers."""
        if self.tracer is None:
            return NOTHING
        return self._producer_span(self.tracer, event, routing_key, headers)

    @staticmethod
    @contextlib.contextmanager
    def _producer_span(
        tracer: Tracer, event: Envelope[Any], routing_key: str, headers: dict[str, Any]
    ) -> Iterator[None]:
        with tracer.start_as_current_span(
            f"publish {routing_key}",
            kind=SpanKind.PRODUCER,
            attributes={
                **_event_attributes(event, routing_key),
                "messaging.operation.type": "send",
                "messaging.operation.name": "publish",
            },
        ):
            PROPAGATOR.inject(headers)
            yield

    def ticking(self, task: str) -> contextlib.AbstractContextManager[None]:
        """The root span of one tick of a periodic task (`servicekit.periodic`), so what the
        tick does — offers a sweeper makes, events an outbox relay publishes — is one trace
        of its own instead of orphan PRODUCER spans; nothing when tracing is off."""
        if self.tracer is None:
            return NOTHING
        return self._tick_span(self.tracer, task)

    @staticmethod
    @contextlib.contextmanager
    def _tick_span(tracer: Tracer, task: str) -> Iterator[None]:
        with tracer.start_as_current_span(
            f"tick {task}",
            # A root whatever the loop's context: each tick is its own unit of work.
            context=otel_context.Context(),
            kind=SpanKind.INTERNAL,
            attributes={"assistline.task.name": task},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield
            except Exception as error:
                _failed(span, error)
                raise

    def consumer_middleware(self, *, exchanges: Collection[str] = (EVENTS_EXCHANGE,)) -> type[BaseMiddleware] | None:
        """A FastStream middleware opening a CONSUMER span per event consumed, continuing the
        trace from the message headers; None when tracing is off (no middleware at all).

        Only messages published to `exchanges` are traced: the events. What else a service
        consumes — live frames between replicas, workers' heartbeats — is chatter that would
        start a trace of its own every few seconds."""
        if self.tracer is None:
            return None
        tracer, service = self.tracer, self.service

        class TraceConsumption(BaseMiddleware):
            async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
                raw = msg.raw_message
                # Through exchange-to-exchange bindings (dispatch's partitions) a delivery still
                # names the exchange the message was published to.
                if getattr(raw, "exchange", None) not in exchanges:
                    return await call_next(msg)
                routing_key = getattr(raw, "routing_key", None) or ""
                attributes: dict[str, Any] = {
                    "messaging.system": SYSTEM,
                    "messaging.destination.name": raw.exchange,
                    "messaging.rabbitmq.destination.routing_key": routing_key,
                    "messaging.operation.type": "process",
                    "messaging.operation.name": "process",
                    "messaging.message.id": msg.message_id or "",
                    "messaging.message.conversation_id": msg.correlation_id or "",
                    # The replicas of a service share its queues' messages: they are the group.
                    "messaging.consumer.group.name": service,
                }
                if (tag := getattr(raw, "delivery_tag", None)) is not None:
                    attributes["messaging.rabbitmq.message.delivery_tag"] = tag
                parent = PROPAGATOR.extract(dict(msg.headers or {}))
                with tracer.start_as_current_span(
                    f"process {routing_key}",
                    context=parent,
                    kind=SpanKind.CONSUMER,
                    attributes=attributes,
                    record_exception=False,
                    set_status_on_exception=False,
                ) as span:
                    context = span.get_span_context()
                    # Every line logged while the event is handled names its trace.
                    with structlog.contextvars.bound_contextvars(
                        trace_id=f"{context.trace_id:032x}", span_id=f"{context.span_id:016x}"
                    ):
                        try:
                            return await call_next(msg)
                        except AckMessage:
                            raise
                        except BaseException as error:
                            _failed(span, error)
                            raise

        return TraceConsumption

    def shutdown(self) -> None:
        """Flush and stop the exporters (at the end of the service's lifespan)."""
        if self.provider is not None:
            self.provider.shutdown()


def json_lines_exporter(path: Path) -> "SpanExporter":
    """An exporter appending every finished span to `path` as one JSON line (development and
    tests). Several processes may share the file: each batch is one `write` on an `O_APPEND`
    descriptor. Defined on demand, so the SDK is only imported when tracing is on."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class JsonLinesSpanExporter(SpanExporter):
        def __init__(self) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            self._lock = threading.Lock()

        def export(self, spans: "Sequence[ReadableSpan]") -> SpanExportResult:
            data = "".join(json.dumps(span_record(span), default=str) + "\n" for span in spans).encode()
            with self._lock:
                os.write(self._fd, data)
            return SpanExportResult.SUCCESS

        def shutdown(self) -> None:
            with self._lock, contextlib.suppress(OSError):
                os.close(self._fd)

    return JsonLinesSpanExporter()


def span_record(span: "ReadableSpan") -> dict[str, Any]:
    """A span as a flat, readable JSON object (ids in hex as W3C writes them)."""
    context = span.get_span_context()
    assert context is not None  # a finished SDK span always has one
    return {
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent is not None else None,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }
