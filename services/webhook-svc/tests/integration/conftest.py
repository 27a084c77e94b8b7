"""A real webhook-svc (HTTP + RabbitMQ + MongoDB-wire), receivers, and the events of a
request's lifecycle as the other services would publish them."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    EventPayload,
    RequestAssigned,
    RequestOffered,
    RequestSubmitted,
)
from contracts.vocabulary import ConnectionMode, EndedBy, PortalType, SessionOutcome
from servicekit.auth import Role
from testkit import bearer, eventually
from testkit.amqp import AmqpTap, publish_raw
from testkit.plugin import make_token
from testkit.services import serve_in_process
from testkit.webhooks import WebhookReceiver
from webhook_svc.bootstrap import bootstrap
from webhook_svc.config import Settings

FAST: dict[str, Any] = {
    "webhook_allow_private": True,
    "webhook_retry_schedule": [0.3, 0.6, 1.2],
    "webhook_poll_seconds": 0.1,
    "webhook_order_settle_seconds": 0.2,
    "webhook_lease_seconds": 10.0,
    "webhook_timeout_seconds": 5.0,
    "webhook_disable_after_failures": 1000,
    "webhook_disable_after_seconds": 3600.0,
}

LIFECYCLE = ["RequestSubmitted", "RequestOffered", "RequestAssigned", "ChatSessionStarted", "ChatSessionEnded"]


def envelope(data: EventPayload, producer: str, at: datetime) -> Envelope[Any]:
    event = Envelope[type(data)].of(data, producer=producer, correlation_id=getattr(data, "request_id", "x"))  # type: ignore[misc]
    return event.model_copy(update={"occurred_at": at})


def lifecycle(account_id: str, request_id: str | None = None, start: datetime | None = None) -> list[Envelope[Any]]:
    """The five events of one Web-mode request, a millisecond apart, oldest first."""
    request_id = request_id or "req_" + uuid.uuid4().hex[:10]
    t = start or datetime.now(UTC)
    ms = timedelta(milliseconds=1)
    common = {"request_id": request_id, "account_id": account_id, "company_id": "cmp_globex"}
    session = "cht_" + request_id
    return [
        envelope(
            RequestSubmitted(
                **common,
                portal_id="prt_1",
                mode=ConnectionMode.WEB,
                portal_type=PortalType.SMART_BOX,
                customer_name="Carla",
                description="printer on fire",
                submitted_at=t,
            ),
            "portal-svc",
            t,
        ),
        envelope(
            RequestOffered(
                **common,
                technician_ids=["tec_ana"],
                portal_type=PortalType.SMART_BOX,
                customer_name="Carla",
                expires_at=t + timedelta(minutes=1),
            ),
            "dispatch-svc",
            t + ms,
        ),
        envelope(
            RequestAssigned(
                **common,
                technician_id="tec_ana",
                mode=ConnectionMode.WEB,
                portal_type=PortalType.SMART_BOX,
                customer_name="Carla",
                alert=False,
                assigned_at=t + 2 * ms,
            ),
            "dispatch-svc",
            t + 2 * ms,
        ),
        envelope(ChatSessionStarted(**common, session_id=session, technician_id="tec_ana"), "chat-svc", t + 3 * ms),
        envelope(
            ChatSessionEnded(
                **common,
                session_id=session,
                technician_id="tec_ana",
                ended_by=EndedBy.TECHNICIAN,
                outcome=SessionOutcome.RESOLVED,
            ),
            "chat-svc",
            t + 4 * ms,
        ),
    ]


class Hooks:
    """Drives one webhook-svc: registers endpoints as an admin, publishes events."""

    def __init__(self, base_url: str, rabbitmq_url: str, service: Any, tap: AmqpTap) -> None:
        self.base_url = base_url
        self.rabbitmq_url = rabbitmq_url
        self.service = service
        self.tap = tap
        self.http = httpx.AsyncClient(base_url=base_url + "/api/webhook", timeout=30)

    lifecycle = staticmethod(lifecycle)

    @staticmethod
    def account() -> str:
        return "acc_" + uuid.uuid4().hex[:8]

    @staticmethod
    def admin(account_id: str) -> dict[str, str]:
        return bearer(make_token(Role.ADMIN, subject="adm_" + account_id, account_id=account_id))

    async def register(
        self, account_id: str, receiver: WebhookReceiver, event_types: list[str] | None = None
    ) -> tuple[str, str]:
        response = await self.http.post(
            "/endpoints",
            json={"url": receiver.url, "event_types": event_types or LIFECYCLE, "description": "test"},
            headers=self.admin(account_id),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return body["endpoint"]["endpoint_id"], body["secret"]

    async def publish(self, *events: Envelope[Any]) -> None:
        for event in events:
            await publish_raw(
                self.rabbitmq_url,
                event.data.routing_key(),
                event.model_dump_json().encode(),
                message_id=str(event.event_id),
            )

    async def deliveries(self, account_id: str, endpoint_id: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"/endpoints/{endpoint_id}/deliveries", params={"limit": 200}, headers=self.admin(account_id)
        )
        assert response.status_code == 200, response.text
        return response.json()["deliveries"]

    async def endpoint(self, account_id: str, endpoint_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/endpoints/{endpoint_id}", headers=self.admin(account_id))
        assert response.status_code == 200, response.text
        return response.json()

    async def settled(self, account_id: str, endpoint_id: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Waits until `count` deliveries of the endpoint are finished (delivered or failed)."""

        async def finished() -> list[dict[str, Any]] | None:
            rows = await self.deliveries(account_id, endpoint_id)
            done = [r for r in rows if r["status"] != "pending"]
            return rows if len(done) >= count else None

        return await eventually(finished, timeout=timeout, what=f"{count} deliveries finished")


async def running_hooks(real_backends: Any, name: str, **overrides: Any) -> AsyncIterator[Hooks]:
    settings = real_backends.settings(
        Settings, mongodb_db=f"webhook-{name}-{uuid.uuid4().hex[:6]}", **{**FAST, **overrides}
    )
    service = bootstrap(settings)
    async with AmqpTap(real_backends.rabbitmq_url, "webhook.#") as tap:
        async with serve_in_process(service.app) as base_url:
            hooks = Hooks(base_url, real_backends.rabbitmq_url, service, tap)
            try:
                yield hooks
            finally:
                await hooks.http.aclose()


@pytest.fixture(scope="module")
async def hooks(real_backends):
    async for running in running_hooks(real_backends, "main"):
        yield running


@pytest.fixture
async def receiver():
    async with WebhookReceiver() as running:
        yield running
