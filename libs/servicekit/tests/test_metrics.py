"""servicekit.metrics: per-process registries, HTTP and consumer figures, the exposition."""

import contextlib

import pytest
from fastapi import APIRouter, FastAPI, HTTPException, WebSocket
from faststream.rabbit import TestRabbitBroker
from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, Field

from contracts import Envelope, RequestCancelled
from servicekit.broker import make_broker
from servicekit.metrics import HttpMetrics, Metrics, Once, Pending, status_class


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition text, as a Prometheus server would parse it."""
    parsed = text_string_to_metric_families(metrics.exposition().decode())
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parsed
        for sample in family.samples
    }


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics).get((name, tuple(sorted(labels.items()))), 0.0)


def test_each_process_has_its_own_registry():
    one, other = Metrics("one-svc"), Metrics("other-svc")
    one.published.labels("RequestCancelled").inc()
    assert value(one, "assistline_events_published_total", event_type="RequestCancelled") == 1
    assert value(other, "assistline_events_published_total", event_type="RequestCancelled") == 0
    # The same names register twice without clashing: nothing lands in the global registry.
    Metrics("one-svc")


def test_names_follow_prometheus_conventions():
    metrics = Metrics("portal-svc")
    metrics.counter("things_total", "Things.").inc()
    metrics.histogram("wait_seconds", "Waits.").observe(0.2)
    names = {name for name, _ in samples(metrics)}
    assert "assistline_things_total" in names
    assert "assistline_wait_seconds_bucket" in names and "assistline_wait_seconds_sum" in names
    assert all(name.startswith("assistline_") for name in names)


def test_published_events_reach_observers_once_each():
    metrics = Metrics("portal-svc")
    seen: list[str] = []
    metrics.on_published(lambda event: seen.append(event.type))
    event = Envelope[RequestCancelled].of(
        RequestCancelled(request_id="req_1", account_id="acc_1", company_id="cmp_1"),
        producer="portal-svc",
        correlation_id="req_1",
    )
    metrics.on_published(lambda event: 1 / 0)  # a broken figure must not fail the publication
    metrics.on_published(lambda event: seen.append("after"))
    metrics.event_published(event)
    assert seen == ["RequestCancelled", "after"]
    assert value(metrics, "assistline_events_published_total", event_type="RequestCancelled") == 1


async def test_refresh_runs_every_reader_even_after_one_fails():
    metrics = Metrics("chat-svc")
    gauge = metrics.gauge("chats_active", "Open.")

    async def broken() -> None:
        raise ConnectionError("store down")

    async def working() -> None:
        gauge.set(3)

    metrics.refresh_with(broken)
    metrics.refresh_with(working)
    with pytest.raises(ConnectionError):
        await metrics.refresh()
    assert value(metrics, "assistline_chats_active") == 3


def test_once_and_pending_stay_bounded():
    once = Once(size=2)
    assert once.first("a") and not once.first("a")
    assert once.first("b") and once.first("c")
    assert once.first("a")  # forgotten: the oldest goes first
    pending: Pending[int] = Pending(size=2)
    for key, number in (("x", 1), ("y", 2), ("z", 3)):
        pending.note(key, number)
    assert pending.take("x") is None
    assert pending.take("z") == 3
    assert pending.take("z") is None


def test_status_class():
    assert [status_class(s) for s in (200, 201, 404, 503)] == ["2xx", "2xx", "4xx", "5xx"]


def _app(metrics: Metrics) -> FastAPI:
    app = FastAPI()
    app.add_middleware(HttpMetrics, metrics=metrics)
    app.include_router(metrics.router())

    things = APIRouter()

    @things.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "missing":
            raise HTTPException(404, "no such thing")
        return {"thing_id": thing_id}

    app.include_router(things, prefix="/api")

    @app.websocket("/api/ws/{room}")
    async def socket(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        assert value(metrics, "assistline_websocket_connections", route="/api/ws/{room}") == 1
        await websocket.close()

    return app


async def test_http_requests_are_counted_by_route_template_and_status_class():
    metrics = Metrics("portal-svc")
    async with AsyncClient(transport=ASGITransport(_app(metrics)), base_url="http://test") as http:
        for thing_id in ("a", "b", "missing"):
            await http.get(f"/api/things/{thing_id}")
        await http.get("/wp-admin/setup.php")
        exposed = await http.get("/metrics")
    assert exposed.status_code == 200
    assert exposed.headers["content-type"].startswith("text/plain")
    route = "/api/things/{thing_id}"
    assert value(metrics, "assistline_http_requests_total", method="GET", route=route, status_class="2xx") == 2
    assert value(metrics, "assistline_http_requests_total", method="GET", route=route, status_class="4xx") == 1
    # Raw paths never become labels: ids and scanners' paths would explode the series.
    assert value(metrics, "assistline_http_requests_total", method="GET", route="unmatched", status_class="4xx") == 1
    assert not [labels for name, labels in samples(metrics) if ("route", "/api/things/a") in labels]
    assert value(metrics, "assistline_http_request_duration_seconds_count", method="GET", route=route) == 3


def test_websockets_are_counted_while_open():
    from starlette.testclient import TestClient

    metrics = Metrics("chat-svc")
    with TestClient(_app(metrics)) as client, client.websocket_connect("/api/ws/lobby") as socket:
        socket.receive()  # the close frame: the endpoint asserted the gauge read 1 while open
    assert value(metrics, "assistline_websocket_connections", route="/api/ws/{room}") == 0
    assert not [name for name, labels in samples(metrics) if name == "assistline_http_requests_total"]


class Ping(BaseModel):
    number: int = Field(description="Anything.")


async def test_consumed_messages_are_counted_by_type_and_outcome():
    metrics = Metrics("dispatch-svc")
    broker = make_broker("amqp://guest:guest@127.0.0.1:5672/", service="dispatch-svc", metrics=metrics)

    @broker.subscriber("pings")
    async def on_ping(ping: Ping) -> None:
        if ping.number < 0:
            raise RuntimeError("cannot handle negative pings")

    async with TestRabbitBroker(broker) as test:
        await test.publish({"type": "Ping", "number": 1}, queue="pings")
        await test.publish({"type": "Ping", "number": 2}, queue="pings")
        await test.publish({"type": "Ping", "number": "not a number"}, queue="pings")  # poison: rejected
        # A failing handler: nacked (the in-memory broker hands the error back to the publisher).
        with contextlib.suppress(RuntimeError):
            await test.publish({"type": "Ping", "number": -1}, queue="pings")

    assert value(metrics, "assistline_events_consumed_total", event_type="Ping", outcome="ack") == 2
    assert value(metrics, "assistline_events_consumed_total", event_type="Ping", outcome="reject") == 1
    assert value(metrics, "assistline_events_consumed_total", event_type="Ping", outcome="nack") == 1
    assert value(metrics, "assistline_event_consume_duration_seconds_count", event_type="Ping") == 4
