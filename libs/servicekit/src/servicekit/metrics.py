"""Prometheus metrics of one service process (the official `prometheus_client`).

Every process has its own `CollectorRegistry` (never the library's global one), so services
started side by side in one test process do not share or clash over series. The runtime
builds one `Metrics` per service and hooks it where the figures arise:

- HTTP: `HttpMetrics`, an ASGI middleware: latency and outcome per route template (never the
  raw path: ids would explode the series), method and status class; open WebSockets per route.
- Events consumed: `broker.EventContext` reports each message's type, outcome and duration.
- Events published: the runtime's publish function, after the broker confirmed it; each
  service's own metrics module derives its domain figures from what it publishes
  (`on_published`).
- Outbox and dead letters: publication failures from the outbox; the backlog (documents with
  staged events) and the `.dlq` depth from a cheap periodic read (`refresh`), never on a hot path.

Gauges filled by a periodic read of shared state are the same on every replica: aggregate
them with `max`, not `sum`. Counters and histograms are per process: aggregate with `sum`.
"""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import Envelope
from servicekit.logging import get_logger

log = get_logger(__name__)

PREFIX = "assistline_"

# Seconds. From a few milliseconds (a consumer, an HTTP call) to minutes (a request waiting
# in a queue, a technician taking their time to accept).
FAST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLOW_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

Observer = Callable[[Envelope[Any]], None]
Refresh = Callable[[], Awaitable[None]]


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class Metrics:
    """The registry of one service process and the series servicekit itself records."""

    def __init__(self, service: str) -> None:
        # `_created` series double the exposition for nothing Prometheus uses (process-wide switch).
        disable_created_metrics()
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self._observers: list[Observer] = []
        self._refreshers: list[Refresh] = []
        self.http_requests = self.counter(
            "http_requests_total", "HTTP requests handled.", ["method", "route", "status_class"]
        )
        self.http_duration = self.histogram(
            "http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"], FAST_BUCKETS
        )
        self.websockets = self.gauge("websocket_connections", "WebSockets open on this process.", ["route"])
        self.consumed = self.counter(
            "events_consumed_total",
            "Messages consumed, by event type and outcome (ack; nack: redelivered; reject: to the .dlq).",
            ["event_type", "outcome"],
        )
        self.consume_duration = self.histogram(
            "event_consume_duration_seconds", "Time to handle one consumed message.", ["event_type"], FAST_BUCKETS
        )
        self.published = self.counter("events_published_total", "Events published (confirmed).", ["event_type"])
        self.outbox_failures = self.counter(
            "outbox_publish_failures_total", "Publications after a write that failed (the sweeper retries)."
        )
        self.outbox_backlog = self.gauge(
            "outbox_backlog_documents",
            "Documents with staged events left to the sweeper: past their writer's lease, or whose "
            "publication failed (periodic read; aggregate with max).",
            ["collection"],
        )
        self.dead_letters = self.gauge(
            "dlq_messages",
            "Messages in the service's dead-letter queue (periodic read; aggregate with max).",
            ["queue"],
        )

    # Series --------------------------------------------------------------------------

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(PREFIX + name.removesuffix("_total"), documentation, labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(PREFIX + name, documentation, labels, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (), buckets: Sequence[float] = SLOW_BUCKETS
    ) -> Histogram:
        return Histogram(PREFIX + name, documentation, labels, buckets=buckets, registry=self.registry)

    # Hooks ---------------------------------------------------------------------------

    def on_published(self, observer: Observer) -> None:
        """Call `observer` with every event this process publishes (after the confirm)."""
        self._observers.append(observer)

    def event_published(self, event: Envelope[Any]) -> None:
        self.published.labels(event.type).inc()
        for observer in self._observers:
            # A figure is never worth a publication: the event is out, whatever a metric does.
            try:
                observer(event)
            except Exception:
                log.exception("metric observer failed", event_type=event.type)

    def event_consumed(self, event_type: str | None, outcome: str, seconds: float) -> None:
        kind = event_type or "unknown"
        self.consumed.labels(kind, outcome).inc()
        self.consume_duration.labels(kind).observe(seconds)

    def outbox_publish_failed(self) -> None:
        self.outbox_failures.inc()

    def refresh_with(self, refresh: Refresh) -> None:
        """Add a periodic read (gauges of shared state) to `refresh`."""
        self._refreshers.append(refresh)

    async def refresh(self) -> None:
        """Run every periodic read; one failing read does not stop the others."""
        failures: list[BaseException] = []
        for refresh in self._refreshers:
            try:
                await refresh()
            except Exception as error:
                failures.append(error)
        if failures:
            raise failures[0]

    # Exposition ----------------------------------------------------------------------

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def router(self) -> APIRouter:
        """`GET /metrics`, outside the API prefix: scraped from each process directly, never
        through the public gateway."""
        router = APIRouter()

        @router.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST)

        return router


class Once:
    """A bounded memory of keys already seen (e.g. "first offer of this request"): the
    oldest are forgotten first, so memory stays flat however long the process runs."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first(self, key: str) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True


class Pending[T]:
    """Facts noted when an event is built, read back when it is published (bounded: an
    event whose write lost a race is never published, and its note ages out)."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._notes: OrderedDict[str, T] = OrderedDict()

    def note(self, key: str, value: T) -> None:
        self._notes[key] = value
        if len(self._notes) > self._size:
            self._notes.popitem(last=False)

    def take(self, key: str) -> T | None:
        return self._notes.pop(key, None)


class HttpMetrics:
    """ASGI middleware: one latency observation and one outcome count per HTTP request, and
    the WebSockets open, labelled by route template (`/api/chat/sessions/{session_id}`).
    A path no route matches counts as `unmatched`, so scanners cannot inflate the series."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    @staticmethod
    def _template(scope: Scope) -> str:
        """The matched route's template, as the router left it in the (shared) scope: FastAPI
        records the full path of a route of an included router, Starlette the route itself."""
        context = (scope.get("fastapi") or {}).get("effective_route_context")
        path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
        return path if isinstance(path, str) else "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route, method = self._template(scope), scope["method"]
            self.metrics.http_requests.labels(method, route, status_class(status)).inc()
            self.metrics.http_duration.labels(method, route).observe(time.perf_counter() - started)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False
        gauge: Any = None

        async def sending(message: Message) -> None:
            nonlocal accepted, gauge
            await send(message)
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                gauge = self.metrics.websockets.labels(self._template(scope))
                gauge.inc()

        try:
            await self.app(scope, receive, sending)
        finally:
            if gauge is not None:
                gauge.dec()
