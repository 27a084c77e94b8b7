"""Composition root of webhook-svc: the one place its parts are wired, for production and tests."""

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope, EventPayload, WebhookEndpointDisabled
from servicekit.logging import get_logger
from servicekit.runtime import Repository, Runtime, Service, assemble, create_runtime
from webhook_svc.adapters.deliveries import DeliveryRepository
from webhook_svc.adapters.endpoints import EndpointRepository
from webhook_svc.adapters.lanes import LaneRepository
from webhook_svc.adapters.sender import Sender, validate
from webhook_svc.config import Settings
from webhook_svc.domain.retry import RetryPolicy
from webhook_svc.entrypoints import consumers
from webhook_svc.entrypoints.api import api_router
from webhook_svc.handlers import Handlers
from webhook_svc.handlers.endpoints import EndpointAdmin
from webhook_svc.handlers.recording import Recording
from webhook_svc.handlers.worker import DeliveryWorker

DESCRIPTION = (
    "Assistline webhook-svc: signed webhooks. Admins register HTTPS endpoints per account; the "
    "request and chat lifecycle events of that account are POSTed to them as CloudEvents 1.0 "
    "(structured JSON, the event envelope as `data`), signed as Standard Webhooks define it, "
    "at least once, in order per request, retried with exponential backoff."
)

EMITS: tuple[type[EventPayload], ...] = (WebhookEndpointDisabled,)
DAY = 86400.0

log = get_logger(__name__)


def build_handlers(runtime: Runtime, settings: Settings, sender: Sender) -> tuple[Handlers, list[Repository]]:
    endpoints = EndpointRepository(runtime.outbox_collection("endpoints"))
    deliveries = DeliveryRepository(runtime.collection("deliveries"))
    lanes = LaneRepository(runtime.collection("lanes"))
    policy = RetryPolicy(
        schedule=tuple(settings.webhook_retry_schedule),
        disable_after_failures=settings.webhook_disable_after_failures,
        disable_after=timedelta(seconds=settings.webhook_disable_after_seconds),
    )

    async def check_url(url: str) -> None:
        await validate(url, allow_private=settings.webhook_allow_private)

    def make_event(data: EventPayload, correlation_id: str) -> Envelope[Any]:
        return runtime.event(data, correlation_id=correlation_id)

    handlers = Handlers(
        admin=EndpointAdmin(
            endpoints,
            deliveries,
            lanes,
            check_url,
            max_endpoints=settings.webhook_max_endpoints,
            secret_overlap_seconds=settings.webhook_secret_overlap_seconds,
        ),
        recording=Recording(endpoints, deliveries, lanes, settle_seconds=settings.webhook_order_settle_seconds),
        worker=DeliveryWorker(
            endpoints,
            deliveries,
            lanes,
            sender,
            policy,
            make_event,
            lease_seconds=settings.webhook_lease_seconds,
            attempt_seconds=settings.webhook_timeout_seconds,
            concurrency=settings.webhook_concurrency,
        ),
    )
    return handlers, [endpoints, deliveries, lanes]


def bootstrap(settings: Settings) -> Service:
    runtime = create_runtime(settings, emits=EMITS)
    sender = Sender(timeout=settings.webhook_timeout_seconds, allow_private=settings.webhook_allow_private)
    handlers, repositories = build_handlers(runtime, settings, sender)
    consumers.register(runtime.broker, runtime.service, handlers)
    runtime.every(settings.webhook_poll_seconds, handlers.worker.tick, name="webhook-deliveries")

    async def purge_log() -> None:
        before = datetime.now(UTC) - timedelta(days=settings.webhook_log_retention_days)
        if count := await handlers.admin.deliveries.purge(before):
            log.info("delivery log purged", deleted=count)

    runtime.every(3600.0, purge_log, name="webhook-log-retention")

    return assemble(
        runtime,
        handlers=handlers,
        description=DESCRIPTION,
        routers=[api_router(runtime.auth, handlers)],
        repositories=repositories,
        on_shutdown=sender.close,
    )
