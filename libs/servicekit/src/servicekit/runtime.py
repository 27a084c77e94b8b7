"""Assembly of one service: the pieces every service has, built from its settings.

Used by each service's `bootstrap` (the composition root) in production and in tests.
Nothing here connects at import time.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from faststream_fastapi import FastStreamAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Envelope, EventPayload, cloudevents
from servicekit.auth import Authenticator
from servicekit.broker import EVENTS, declare_dead_letters, make_broker, wait_until_connected
from servicekit.errors import install_error_handlers
from servicekit.health import health_router
from servicekit.logging import configure_logging, get_logger
from servicekit.mongo import make_mongo_client, ping
from servicekit.outbox import TRANSIENT, Outbox, OutboxCollection
from servicekit.periodic import Periodic
from servicekit.settings import ServiceSettings

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
    periodic: list[Periodic] = field(default_factory=list)

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
        self.periodic.append(Periodic(name=name, seconds=seconds, tick=tick, wake=wake, transient=TRANSIENT))


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
    broker = make_broker(settings.rabbitmq_url, service=service)
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

    async def publish(event: Envelope[Any]) -> None:
        log.debug(
            "publishing event",
            event_type=event.type,
            event_id=str(event.event_id),
            correlation_id=event.correlation_id,
        )
        await publishers[type(event.data)].publish(
            event.model_dump(mode="json"),
            message_id=str(event.event_id),
            correlation_id=event.correlation_id,
            message_type=event.type,
            # Additive: any CloudEvents SDK can read the message through the AMQP binding.
            headers=cloudevents.amqp_properties(event),
        )

    mongo = make_mongo_client(settings.mongodb_url, app_name=service)
    db = mongo[settings.database_name]
    return Runtime(
        settings=settings,
        broker=broker,
        mongo=mongo,
        db=db,
        outbox=Outbox(publish),
        auth=Authenticator(settings.jwt_secret.get_secret_value()),
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
            if on_shutdown:
                await on_shutdown()
            await runtime.mongo.close()

    async def connect(broker: RabbitBroker) -> None:
        await wait_until_connected(broker, settings.broker_connect_timeout_seconds)
        await declare_dead_letters(broker, runtime.service)
        if on_broker_connected:
            await on_broker_connected()

    api = FastAPI(
        title=runtime.service,
        description=description,
        lifespan=lifespan,
        docs_url=f"{settings.api_prefix}/docs",
        openapi_url=f"{settings.api_prefix}/openapi.json",
    )
    install_error_handlers(api)
    api.include_router(
        health_router({"rabbitmq": lambda: _broker_ready(runtime.broker), "mongodb": lambda: ping(runtime.mongo)}),
        prefix=settings.api_prefix,
    )
    for router in routers:
        api.include_router(router, prefix=settings.api_prefix)
    # Pages outside the API prefix (e.g. the customer portal at /p/{subdomain}).
    for router in root_routers:
        api.include_router(router)
    app = FastStreamAPI(
        runtime.broker,
        application=api,
        specification=asyncapi_spec(runtime, description=description),
        asyncapi_path=f"{settings.api_prefix}/asyncapi",
        connection_hook=connect,
    )
    return Service(app=app, runtime=runtime, handlers=handlers, description=description)


def serve(app: Any, settings: ServiceSettings) -> None:
    """Run one service process (called by each service's `__main__`)."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    structlog.get_logger().info("starting", port=settings.port, database=settings.database_name)
    uvicorn.run(app, host=settings.http_host, port=settings.port, log_config=None, ws="websockets-sansio")
