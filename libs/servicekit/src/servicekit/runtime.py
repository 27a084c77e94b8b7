"""Assembly of one service: the pieces every service has, built from its settings.

Used by each service's `bootstrap` (the composition root) in production and in tests.
Nothing here connects at import time.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.rabbit import RabbitBroker
from faststream.specification import AsyncAPI
from faststream_fastapi import FastStreamAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from contracts import Envelope, EventPayload
from servicekit.auth import Authenticator
from servicekit.broker import EVENTS, declare_dead_letters, make_broker, wait_until_connected
from servicekit.errors import install_error_handlers
from servicekit.health import health_router
from servicekit.logging import configure_logging, get_logger
from servicekit.mongo import make_mongo_client, ping
from servicekit.outbox import Outbox
from servicekit.settings import ServiceSettings

log = get_logger(__name__)

Task = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    """The infrastructure one service process owns."""

    settings: ServiceSettings
    broker: RabbitBroker
    mongo: AsyncMongoClient
    db: AsyncDatabase
    outbox: Outbox
    auth: Authenticator
    background: list[Task] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.settings.service_name

    def event(self, data: EventPayload, *, correlation_id: str) -> Envelope[Any]:
        return Envelope[type(data)].of(data, producer=self.service, correlation_id=correlation_id)


def create_runtime(settings: ServiceSettings, *, emits: Iterable[type[EventPayload]]) -> Runtime:
    service = settings.service_name
    broker = make_broker(settings.rabbitmq_url, service=service)
    # Publishers are declared once, so the AsyncAPI document lists everything we emit.
    publishers = {
        payload: broker.publisher(
            exchange=EVENTS,
            routing_key=payload.routing_key(),
            schema=Envelope[payload],
            title=f"{payload.routing_key()}:publish",
            description=payload.__doc__,
            persist=True,
            mandatory=False,
        )
        for payload in emits
    }

    async def publish(event: Envelope[Any]) -> None:
        log.info(
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


def build_app(
    runtime: Runtime,
    *,
    routers: Sequence[APIRouter],
    description: str,
    root_routers: Sequence[APIRouter] = (),
    on_startup: Task | None = None,
    on_broker_connected: Task | None = None,
) -> FastStreamAPI:
    """The ASGI app of a service: FastAPI routes + FastStream subscribers + health."""
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await runtime.outbox.ensure_indexes()
        if on_startup:
            await on_startup()
        tasks = [
            asyncio.create_task(runtime.outbox.sweep_forever(settings.outbox_sweep_seconds)),
            *(asyncio.create_task(task()) for task in runtime.background),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
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
    return FastStreamAPI(
        runtime.broker,
        application=api,
        specification=asyncapi_spec(runtime, description=description),
        asyncapi_path=f"{settings.api_prefix}/asyncapi",
        connection_hook=connect,
    )


def serve(app: Any, settings: ServiceSettings) -> None:
    """Run one service process (called by each service's `__main__`)."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    structlog.get_logger().info("starting", port=settings.port, database=settings.database_name)
    uvicorn.run(app, host=settings.http_host, port=settings.port, log_config=None, ws="websockets-sansio")
