"""Assembly of one service: the pieces every service has, built from its settings.

Used by each service's `bootstrap` (the composition root) in production and in tests.
Nothing here connects at import time.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from faststream_fastapi import AsyncAPIConfig, FastStreamAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Envelope, EventPayload, cloudevents, partition_headers
from servicekit.auth import Authenticator
from servicekit.broker import (
    EVENTS,
    MAYBE_REPEAT_HEADER,
    dead_letter_queue,
    declare_dead_letters,
    make_broker,
    wait_until_connected,
)
from servicekit.docs import install_docs
from servicekit.errors import install_error_handlers
from servicekit.health import health_router
from servicekit.logging import configure_logging, get_logger
from servicekit.metrics import HttpMetrics, Metrics
from servicekit.mongo import make_mongo_client, ping
from servicekit.outbox import TRANSIENT, Outbox, OutboxCollection
from servicekit.periodic import Periodic
from servicekit.settings import ServiceSettings
from servicekit.tracing import Tracing

log = get_logger(__name__)

CLOUDEVENTS_NOTE = (
    "The body is the Assistline envelope; the message also carries the CloudEvents 1.0 AMQP "
    "binding's application properties (cloudEvents:specversion, id, source, type, time, "
    "datacontenttype, subject), so any CloudEvents SDK can read it."
)

Task = Callable[[], Awaitable[None]]


class Repository(Protocol):
    """What bootstrap needs of a repository: it creates its own indexes at start-up."""

    async def ensure_indexes(self) -> None: ...


@dataclass
class Runtime:
    """The infrastructure one service process owns."""

    settings: ServiceSettings
    broker: RabbitBroker
    mongo: AsyncMongoClient
    db: AsyncDatabase
    outbox: Outbox
    auth: Authenticator
    metrics: Metrics
    periodic: list[Periodic] = field(default_factory=list)
    tracing: Tracing = field(default_factory=Tracing.off)

    @property
    def service(self) -> str:
        return self.settings.service_name

    def event(self, data: EventPayload, *, correlation_id: str) -> Envelope[Any]:
        return Envelope[type(data)].of(data, producer=self.service, correlation_id=correlation_id)  # type: ignore[misc]

    def collection(self, name: str) -> AsyncCollection:
        """A plain collection of this service's database (no events ride on its writes)."""
        return self.db[name]

    def outbox_collection(self, name: str) -> OutboxCollection:
        """A collection whose writes carry events, registered for the outbox sweeper."""
        return self.outbox.collection(self.db[name])

    def every(
        self, seconds: float, tick: Callable[[], Awaitable[object]], *, name: str, wake: asyncio.Event | None = None
    ) -> None:
        """Run `tick` every `seconds` while the service runs (see `servicekit.periodic`)."""
        self.periodic.append(
            Periodic(name=name, seconds=seconds, tick=tick, wake=wake, transient=TRANSIENT, tracing=self.tracing)
        )


@dataclass
class Service:
    """One assembled service: what `bootstrap(settings)` returns, in production and in tests."""

    app: FastStreamAPI
    runtime: Runtime
    handlers: Any
    """The service's use cases (its own `Handlers` container)."""
    description: str

    def asyncapi(self) -> str:
        return asyncapi_document(self.runtime, description=self.description)


def create_runtime(settings: ServiceSettings, *, emits: Iterable[type[EventPayload]]) -> Runtime:
    service = settings.service_name
    metrics = Metrics(service)
    tracing = Tracing.from_settings(settings)
    broker = make_broker(settings.rabbitmq_url, service=service, metrics=metrics, tracing=tracing)
    # Publishers are declared once, so the AsyncAPI document lists everything we emit.
    publishers = {
        payload: broker.publisher(
            exchange=EVENTS,
            routing_key=payload.routing_key(),
            schema=Envelope[payload],  # type: ignore[valid-type]
            title=f"{payload.routing_key()}:publish",
            description=f"{payload.__doc__} {CLOUDEVENTS_NOTE}",
            persist=True,
            mandatory=False,
        )
        for payload in emits
    }

    async def publish(event: Envelope[Any], *, maybe_repeat: bool = False) -> None:
        log.debug(
            "publishing event",
            event_type=event.type,
            event_id=str(event.event_id),
            correlation_id=event.correlation_id,
        )
        # Additive: any CloudEvents SDK can read the message through the AMQP binding;
        # the company header lets a consumer partition by company (dispatch-svc does).
        headers = {**cloudevents.amqp_properties(event), **partition_headers(event.data)}
        if maybe_repeat:
            headers[MAYBE_REPEAT_HEADER] = True
        # With tracing on: a PRODUCER span, its W3C context added to the headers.
        with tracing.publishing(event, routing_key=type(event.data).routing_key(), headers=headers):
            await publishers[type(event.data)].publish(
                event.model_dump(mode="json"),
                message_id=str(event.event_id),
                correlation_id=event.correlation_id,
                message_type=event.type,
                headers=headers,
            )
        metrics.event_published(event)

    mongo = make_mongo_client(settings.mongodb_url, app_name=service)
    db = mongo[settings.database_name]
    return Runtime(
        settings=settings,
        broker=broker,
        mongo=mongo,
        db=db,
        outbox=Outbox(publish, on_failure=metrics.outbox_publish_failed, clear_later=settings.outbox_clear_seconds > 0),
        auth=Authenticator(settings.jwt_secret.get_secret_value()),
        metrics=metrics,
        tracing=tracing,
    )


def asyncapi_spec(runtime: Runtime, *, description: str) -> AsyncAPI:
    return AsyncAPI(
        runtime.broker,
        title=runtime.service,
        version="1.0.0",
        description=description,
        schema_version="3.0.0",
    )


def asyncapi_document(runtime: Runtime, *, description: str) -> str:
    """The AsyncAPI document, as committed next to each service.

    Keys are sorted: FastStream lists channels in a hash-dependent order, and the committed
    document must not change from one run to the next.
    """
    document = asyncapi_spec(runtime, description=description).to_specification().to_jsonable()
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


async def _broker_ready(broker: RabbitBroker) -> None:
    if not await broker.ping(timeout=1.0):
        raise ConnectionError("RabbitMQ connection is not open")


def assemble(
    runtime: Runtime,
    *,
    handlers: Any,
    description: str,
    routers: Sequence[APIRouter],
    repositories: Sequence[Repository] = (),
    root_routers: Sequence[APIRouter] = (),
    on_startup: Task | None = None,
    on_shutdown: Task | None = None,
    on_broker_connected: Task | None = None,
) -> Service:
    """The ASGI app of a service (FastAPI routes + FastStream subscribers + health), and the
    start-up every service shares: indexes, then `on_startup`, then the periodic tasks."""
    settings = runtime.settings

    async def sweep_outbox() -> None:
        if count := await runtime.outbox.sweep_once():
            log.info("outbox swept", published=count)

    runtime.every(settings.outbox_sweep_seconds, sweep_outbox, name="outbox", wake=runtime.outbox.wakeup)
    if settings.outbox_clear_seconds > 0:
        runtime.every(settings.outbox_clear_seconds, runtime.outbox.clear_published, name="outbox-clear")
    _measure_backlogs(runtime)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.outbox.ensure_indexes()
        for repository in repositories:
            await repository.ensure_indexes()
        if on_startup:
            await on_startup()
        tasks = [asyncio.create_task(job.run_forever(), name=job.name) for job in runtime.periodic]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with suppress(*TRANSIENT):  # else the sweeper publishes them again
                await runtime.outbox.clear_published()
            if on_shutdown:
                await on_shutdown()
            await runtime.mongo.close()
            runtime.tracing.shutdown()

    async def connect(broker: RabbitBroker) -> None:
        await wait_until_connected(broker, settings.broker_connect_timeout_seconds)
        await declare_dead_letters(broker, runtime.service)
        if on_broker_connected:
            await on_broker_connected()

    api = FastAPI(
        title=runtime.service,
        description=description,
        lifespan=lifespan,
        # Served by `install_docs` from the project's own files (FastAPI's loads a CDN).
        docs_url=None,
        openapi_url=f"{settings.api_prefix}/openapi.json",
    )
    install_error_handlers(api)
    install_docs(api, prefix=settings.api_prefix, title=runtime.service)
    runtime.tracing.instrument(api)  # HTTP server spans, when tracing is on
    api.add_middleware(HttpMetrics, metrics=runtime.metrics)
    api.include_router(
        health_router({"rabbitmq": lambda: _broker_ready(runtime.broker), "mongodb": lambda: ping(runtime.mongo)}),
        prefix=settings.api_prefix,
    )
    for router in routers:
        api.include_router(router, prefix=settings.api_prefix)
    # Scraped from each process directly; the gateway does not expose it.
    api.include_router(runtime.metrics.router())
    # Pages outside the API prefix (e.g. the customer portal at /p/{subdomain}).
    for router in root_routers:
        api.include_router(router)
    app = FastStreamAPI(
        runtime.broker,
        application=api,
        specification=asyncapi_spec(runtime, description=description),
        # The JSON document only: the HTML page is `install_docs`'s, and "try it out" (an
        # unauthenticated HTTP route publishing to the broker) must not exist.
        asyncapi_path=AsyncAPIConfig(f"{settings.api_prefix}/asyncapi", try_it_out_path=None),
        connection_hook=connect,
    )
    return Service(app=app, runtime=runtime, handlers=handlers, description=description)


def _measure_backlogs(runtime: Runtime) -> None:
    """Outbox backlog and dead-letter depth, read every `metrics_refresh_seconds` with the
    service's own gauges of shared state (never on a hot path)."""
    metrics = runtime.metrics

    async def outbox_backlog() -> None:
        for collection, count in (await runtime.outbox.backlog()).items():
            metrics.outbox_backlog.labels(collection).set(count)

    async def dead_letters() -> None:
        if not await runtime.broker.ping(timeout=1.0):
            return
        queue = await runtime.broker.declare_queue(dead_letter_queue(runtime.service))
        # Re-declaring (same arguments) answers with the queue's current depth.
        declared = await queue.declare()
        metrics.dead_letters.labels(queue.name).set(declared.message_count or 0)

    metrics.refresh_with(outbox_backlog)
    metrics.refresh_with(dead_letters)
    runtime.every(runtime.settings.metrics_refresh_seconds, metrics.refresh, name="metrics")


def serve(app: Any, settings: ServiceSettings) -> None:
    """Run one service process (called by each service's `__main__`)."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    structlog.get_logger().info("starting", port=settings.port, database=settings.database_name)
    uvicorn.run(app, host=settings.http_host, port=settings.port, log_config=None, ws="websockets-sansio")
