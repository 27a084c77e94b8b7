import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from dispatch_svc.bootstrap import bootstrap
from dispatch_svc.config import Settings
from dispatch_svc.handlers import Handlers
from servicekit.auth import Role
from servicekit.runtime import Service
from testkit import bearer, eventually
from testkit.amqp import AmqpTap
from testkit.backends import isolated_vhost
from testkit.plugin import make_token
from testkit.services import serve_in_process

from ..support import ACCOUNT, Bus

FAST = {
    "offer_timeout_seconds": 30.0,
    "accept_timeout_seconds": 30.0,
    "sweep_interval_seconds": 0.3,
    "stuck_after_seconds": 1.0,
    # Each write's outbox cleared at once: a test's sweep archives what just finished (the
    # batched clear has its tests in servicekit, and runs in the cost test and end to end).
    "outbox_clear_seconds": 0.0,
}


@dataclass
class Running:
    service: Service
    http: httpx.AsyncClient
    bus: Bus
    tap: AmqpTap

    @property
    def db(self):
        return self.service.runtime.db

    @property
    def handlers(self) -> Handlers:
        return self.service.handlers

    def technician(self, technician_id: str, companies: list[str]) -> dict[str, str]:
        return bearer(make_token(Role.TECHNICIAN, subject=technician_id, account_id=ACCOUNT, company_ids=companies))

    def events(self, event_type: str, request_id: str | None = None) -> list[dict[str, Any]]:
        return [
            m["data"]
            for m in self.tap.of_type(event_type)
            if request_id is None or m["data"].get("request_id") == request_id
        ]

    async def technician_record(self, technician_id: str, **expected: Any) -> dict[str, Any]:
        """Waits until dispatch's record of the technician has the `expected` fields (the
        consumed marker of a technician event), and returns it."""

        async def matches() -> dict[str, Any] | None:
            found = await self.db["technicians"].find_one({"_id": technician_id})
            return found if found and all(found.get(k) == v for k, v in expected.items()) else None

        return await eventually(matches, timeout=15, what=f"{technician_id} with {expected}")

    async def wait(
        self, event_type: str, predicate: Callable[[dict[str, Any]], bool] = lambda d: True, timeout: float = 15.0
    ) -> dict[str, Any]:
        message = await self.tap.wait_for(lambda m: m.get("type") == event_type and predicate(m["data"]), timeout)
        return message["data"]


@pytest.fixture
def dispatch_service(real_backends) -> Callable[..., Any]:
    """Starts dispatch-svc in-process on its own database; settings overridable per test."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Running]:
        # A vhost of its own: every test's dispatch consumes the same queue names, so one left
        # consuming by an earlier test (a failed shutdown) would otherwise steal this test's events.
        tag = uuid.uuid4().hex[:8]
        with isolated_vhost(real_backends.rabbitmq_url, f"assistline-dispatch-{tag}") as url:
            backends = replace(real_backends, rabbitmq_url=url)
            settings = backends.settings(Settings, mongodb_db=f"dispatch-{tag}", **{**FAST, **overrides})
            service = bootstrap(settings)
            async with (
                AmqpTap(url, "request.#", "code.#") as tap,
                Bus(url) as bus,
                serve_in_process(service.app) as base_url,
                httpx.AsyncClient(base_url=base_url + "/api/dispatch", timeout=20) as http,
            ):
                yield Running(service, http, bus, tap)

    return start
