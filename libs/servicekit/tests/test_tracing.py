"""Traces without backends: spans of HTTP, publication and consumption, the W3C context in the
headers and in what the outbox stores, the JSON-lines exporter, and "off" meaning off."""

import asyncio
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import pytest
import structlog
from fastapi import FastAPI
from faststream.rabbit import TestRabbitBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from contracts import EVENTS_EXCHANGE, Envelope, RequestQueued
from servicekit.broker import EVENTS, make_broker, subscribe
from servicekit.logging import configure_logging
from servicekit.outbox import _entry
from servicekit.periodic import Periodic
from servicekit.settings import ServiceSettings
from servicekit.tracing import TRACE_FIELD, Tracing, capture, json_lines_exporter, resumed
from testkit import eventually
from testkit.plugin import DEV_SECRET
from testkit.services import serve_in_process

SERVICE = "trace-svc"


class Settings(ServiceSettings):
    service_name: ClassVar[str] = SERVICE
    default_port: ClassVar[int] = 0


def settings(**fields: Any) -> Settings:
    return Settings(jwt_secret=DEV_SECRET, dev_mode=True, **fields)


def queued(request_id: str = "req_1") -> Envelope[RequestQueued]:
    data = RequestQueued(
        request_id=request_id, account_id="acc", company_id="cmp", position=1, queued_since=datetime.now(UTC)
    )
    return Envelope[RequestQueued].of(data, producer="tests", correlation_id=f"corr-{request_id}")


@pytest.fixture
def exported() -> Iterator[tuple[Tracing, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    tracing = Tracing.with_processors(SERVICE, [SimpleSpanProcessor(exporter)])
    yield tracing, exporter
    tracing.shutdown()


def hex_span(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return f"{context.span_id:016x}"


def traceparent(span: ReadableSpan) -> str:
    """The W3C header naming `span`, without its flags (sampled, random trace id, ...)."""
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}"


def without_flags(header: str) -> str:
    return header.rsplit("-", 1)[0]


def test_off_by_default_no_provider_no_middleware_no_headers():
    tracing = Tracing.from_settings(settings())
    assert not tracing.enabled
    assert tracing.provider is None
    assert tracing.consumer_middleware() is None
    headers: dict[str, Any] = {"cloudEvents:id": "x"}
    with tracing.publishing(queued(), routing_key="request.queued.v1", headers=headers):
        pass
    assert headers == {"cloudEvents:id": "x"}
    app = FastAPI()
    tracing.instrument(app)
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
    # Nothing staged outside a recorded span carries a context.
    assert TRACE_FIELD not in _entry(queued(), "test", datetime.now(UTC))


def test_off_by_default_a_service_process_loads_no_sdk_or_exporter():
    # A fresh interpreter: assembling a service with default settings must not even import the
    # OpenTelemetry SDK, an exporter or the HTTP instrumentation.
    script = """
import sys
from typing import ClassVar
from servicekit.runtime import assemble, create_runtime
from servicekit.settings import ServiceSettings

class Settings(ServiceSettings):
    service_name: ClassVar[str] = "off-svc"
    default_port: ClassVar[int] = 0

runtime = create_runtime(Settings(assistline_dev_mode=True), emits=[])
assemble(runtime, handlers=None, description="", routers=[])
assert not runtime.tracing.enabled
loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")))
print(",".join(loaded))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_configured_exporters(tmp_path):
    otlp = Tracing.from_settings(settings(otel_exporter_otlp_endpoint="http://collector:4318"))
    try:
        assert otlp.enabled
        # The SDK has no public view of a provider's processors: read its private fields.
        processors: Any = otlp.provider._active_span_processor._span_processors  # type: ignore[union-attr]
        assert [type(p).__name__ for p in processors] == ["BatchSpanProcessor"]
        assert processors[0]._batch_processor._exporter._endpoint == "http://collector:4318/v1/traces"
    finally:
        otlp.shutdown()
    to_file = Tracing.from_settings(settings(traces_file=str(tmp_path / "spans.jsonl")))
    try:
        assert to_file.enabled and to_file.provider is not None
        assert to_file.provider.resource.attributes["service.name"] == SERVICE
    finally:
        to_file.shutdown()


def test_producer_span_is_a_child_of_the_current_span_and_travels_in_the_headers(exported):
    tracing, exporter = exported
    event = queued()
    headers: dict[str, Any] = {}
    assert tracing.tracer is not None
    with tracing.tracer.start_as_current_span("submit"):
        with tracing.publishing(event, routing_key="request.queued.v1", headers=headers):
            pass
    producer, submit = exporter.get_finished_spans()
    assert producer.kind is SpanKind.PRODUCER
    assert producer.name == "publish request.queued.v1"
    assert producer.parent is not None and producer.parent.span_id == submit.get_span_context().span_id
    assert without_flags(headers["traceparent"]) == traceparent(producer)
    assert dict(producer.attributes or {}) == {
        "messaging.system": "rabbitmq",
        "messaging.destination.name": EVENTS_EXCHANGE,
        "messaging.rabbitmq.destination.routing_key": "request.queued.v1",
        "messaging.operation.type": "send",
        "messaging.operation.name": "publish",
        "messaging.message.id": str(event.event_id),
        "messaging.message.conversation_id": "corr-req_1",
        "assistline.event.type": "RequestQueued",
    }


def test_captured_context_is_resumed_later_as_the_parent(exported):
    tracing, exporter = exported
    assert capture() is None  # no span: nothing to store
    assert tracing.tracer is not None
    with tracing.tracer.start_as_current_span("stage"):
        entry = _entry(queued(), "test", datetime.now(UTC))
    # Later, elsewhere (a sweeper outside any span): the stored context is the parent.
    assert trace.get_current_span().get_span_context().is_valid is False
    with resumed(entry[TRACE_FIELD]):
        with tracing.tracer.start_as_current_span("publish"):
            pass
    stage, publish = exporter.get_finished_spans()
    assert without_flags(entry[TRACE_FIELD]["traceparent"]) == traceparent(stage)
    assert publish.parent is not None and publish.parent.span_id == stage.get_span_context().span_id
    assert publish.get_span_context().trace_id == stage.get_span_context().trace_id
    with resumed(None):  # an event staged without a trace: no parent is made up
        assert not trace.get_current_span().get_span_context().is_valid


async def test_consumer_span_continues_the_trace_from_the_headers(exported):
    tracing, exporter = exported
    broker = make_broker("amqp://guest:guest@127.0.0.1:1/", service=SERVICE, tracing=tracing)
    seen: list[dict[str, Any]] = []

    @subscribe(broker, SERVICE, RequestQueued)
    async def handle(event: Envelope[RequestQueued]) -> None:
        context = trace.get_current_span().get_span_context()
        seen.append({"span_id": f"{context.span_id:016x}", "log": structlog.contextvars.get_contextvars()})
        if event.data.request_id == "req_poison":
            raise RuntimeError("handler failed")

    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    event = queued()
    async with TestRabbitBroker(broker) as test_broker:
        await test_broker.publish(
            event.model_dump(mode="json"),
            exchange=EVENTS,
            routing_key="request.queued.v1",
            message_id=str(event.event_id),
            correlation_id=event.correlation_id,
            headers={"traceparent": parent},
        )
        with pytest.raises(RuntimeError):
            await test_broker.publish(
                queued("req_poison").model_dump(mode="json"), exchange=EVENTS, routing_key="request.queued.v1"
            )
        # Poison: `EventContext` rejects it to the dead-letter queue — inside the consumer
        # span (the first middleware is the outermost), which records the rejection.
        await test_broker.publish({"not": "an envelope"}, exchange=EVENTS, routing_key="request.queued.v1")
    consumed, failed, poison = exporter.get_finished_spans()
    assert consumed.kind is SpanKind.CONSUMER
    assert consumed.name == "process request.queued.v1"
    assert f"{consumed.get_span_context().trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert consumed.parent is not None and f"{consumed.parent.span_id:016x}" == "b7ad6b7169203331"
    attributes = dict(consumed.attributes or {})
    assert attributes["messaging.system"] == "rabbitmq"
    assert attributes["messaging.destination.name"] == EVENTS_EXCHANGE
    assert attributes["messaging.rabbitmq.destination.routing_key"] == "request.queued.v1"
    assert attributes["messaging.operation.type"] == "process"
    assert attributes["messaging.message.id"] == str(event.event_id)
    assert attributes["messaging.message.conversation_id"] == "corr-req_1"
    assert attributes["messaging.consumer.group.name"] == SERVICE
    assert consumed.status.status_code is StatusCode.UNSET
    # The handler runs inside the consumer span (so what it stages is its child), and its log
    # lines name the trace.
    assert seen[0]["span_id"] == hex_span(consumed)
    assert seen[0]["log"]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    # A message without a context starts a trace of its own; a failure marks the span.
    assert failed.parent is None
    assert failed.status.status_code is StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "RuntimeError"
    assert poison.status.status_code is StatusCode.ERROR
    assert dict(poison.attributes or {})["error.type"] == "RejectMessage"


async def test_http_server_span_for_routes_but_not_for_probes(exported):
    tracing, exporter = exported
    app = FastAPI()
    staged: list[dict[str, Any]] = []

    @app.post("/api/trace/requests/{request_id}")
    async def submit(request_id: str) -> dict[str, str]:
        staged.append(_entry(queued(request_id), "test", datetime.now(UTC)))
        return {"ok": request_id}

    @app.get("/api/trace/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    tracing.instrument(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/api/trace/ready")).status_code == 200
        assert (await client.post("/api/trace/requests/req_7")).status_code == 200
    (server,) = exporter.get_finished_spans()
    assert server.kind is SpanKind.SERVER
    assert dict(server.attributes or {})["http.route"] == "/api/trace/requests/{request_id}"
    # The event staged by the route carries the server span's context.
    assert without_flags(staged[0][TRACE_FIELD]["traceparent"]) == traceparent(server)


def test_json_lines_exporter_lets_processes_share_one_file(tmp_path):
    path = tmp_path / "spans.jsonl"
    one = Tracing.with_processors("one-svc", [SimpleSpanProcessor(json_lines_exporter(path))])
    two = Tracing.with_processors("two-svc", [SimpleSpanProcessor(json_lines_exporter(path))])
    assert one.tracer is not None and two.tracer is not None
    with one.tracer.start_as_current_span("outer", kind=SpanKind.SERVER):
        with two.tracer.start_as_current_span("inner", attributes={"k": "v"}):
            pass
    one.shutdown()
    two.shutdown()
    inner, outer = (json.loads(line) for line in path.read_text().splitlines())
    assert (inner["service"], inner["name"], inner["attributes"]) == ("two-svc", "inner", {"k": "v"})
    assert (outer["service"], outer["kind"], outer["parent_span_id"]) == ("one-svc", "SERVER", None)
    assert inner["trace_id"] == outer["trace_id"] and inner["parent_span_id"] == outer["span_id"]
    assert inner["start_ns"] <= inner["end_ns"]


async def until_done(loop: asyncio.Task[None], done: asyncio.Event) -> None:
    """Lets a periodic loop tick until `done`, then stops it."""
    try:
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        loop.cancel()


async def test_each_periodic_tick_is_a_root_span_and_its_work_is_traced_under_it(exported):
    tracing, exporter = exported
    staged: list[dict[str, Any]] = []
    headers: dict[str, Any] = {}
    ticks = 0
    done = asyncio.Event()

    async def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 1:
            # What a sweeper's tick does: stage an event and publish it.
            staged.append(_entry(queued("req_tick"), "test", datetime.now(UTC)))
            with tracing.publishing(queued("req_tick"), routing_key="request.queued.v1", headers=headers):
                pass
        elif ticks == 2:
            raise RuntimeError("one bad tick")
        else:
            done.set()

    with trace.get_tracer("tests", tracer_provider=tracing.provider).start_as_current_span("start-up"):
        # Started inside a span (as a lifespan might be): the ticks must not hang off it.
        running = asyncio.create_task(Periodic(name="sweeper", seconds=0.01, tick=tick, tracing=tracing).run_forever())
    await until_done(running, done)
    spans = exporter.get_finished_spans()
    tick_spans = [s for s in spans if s.name == "tick sweeper"]
    assert len(tick_spans) >= 2
    first, failed = tick_spans[0], tick_spans[1]
    assert first.kind is SpanKind.INTERNAL and first.parent is None
    assert dict(first.attributes or {})["assistline.task.name"] == "sweeper"
    (producer,) = [s for s in spans if s.kind is SpanKind.PRODUCER]
    assert producer.parent is not None and producer.parent.span_id == first.get_span_context().span_id
    assert without_flags(staged[0][TRACE_FIELD]["traceparent"]) == traceparent(first)
    assert without_flags(headers["traceparent"]) == traceparent(producer)
    assert failed.status.status_code is StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "RuntimeError"
    assert failed.get_span_context().trace_id != first.get_span_context().trace_id


async def test_with_tracing_off_a_tick_has_no_span():
    captured: list[object] = []
    done = asyncio.Event()

    async def tick() -> None:
        captured.append(capture())
        done.set()

    await until_done(asyncio.create_task(Periodic(name="quiet", seconds=0.01, tick=tick).run_forever()), done)
    assert captured[0] is None


async def test_http_access_lines_carry_the_trace_id_of_their_request(exported):
    tracing, exporter = exported
    app = FastAPI()

    @app.get("/api/trace/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        structlog.get_logger("tests.route").info("thing read", thing_id=thing_id)
        return {"thing": thing_id}

    tracing.instrument(app)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure_logging(SERVICE, "INFO", json=True, stream=stream)
        async with serve_in_process(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
            assert (await client.get("/api/trace/things/t1")).status_code == 200
            await eventually(lambda: '"uvicorn.access"' in stream.getvalue(), timeout=5, what="the access line")
        lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    finally:
        root.handlers = saved[0]
        root.setLevel(saved[1])
    (server,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    trace_id = f"{server.get_span_context().trace_id:032x}"
    access = [line for line in lines if line.get("logger") == "uvicorn.access" and "/api/trace/things/t1" in str(line)]
    route = [line for line in lines if line.get("event") == "thing read"]
    assert len(access) == 1 and len(route) == 1, lines
    assert access[0]["trace_id"] == trace_id and route[0]["trace_id"] == trace_id
    # Lines outside any request (the server starting) name no trace.
    assert all("trace_id" not in line for line in lines if line.get("logger") == "uvicorn.error")
