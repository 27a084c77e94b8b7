"""One portal-svc (demo account seeded) against the real broker and database for the module,
with a stand-in presence-svc answering the start-up availability snapshot."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from contracts import Envelope, EventPayload, TechnicianAvailable
from portal_svc.bootstrap import bootstrap
from portal_svc.config import Settings
from servicekit.auth import Authenticator, Principal, Role
from servicekit.runtime import Service
from testkit import bearer, eventually
from testkit.amqp import publish_raw
from testkit.backends import free_port
from testkit.plugin import DEV_SECRET
from testkit.services import serve_in_process, wait_ready
from testkit.smtp import SmtpSink

BEN_AVAILABLE = TechnicianAvailable(
    technician_id="tec_ben",
    account_id="acc_acme",
    display_name="Ben",
    company_ids=["cmp_globex"],
    capacity=3,
    sequence=1,
)


def presence_stand_in() -> FastAPI:
    """What presence-svc answers: the technicians available right now, to services only."""
    app = FastAPI()
    auth = Authenticator(DEV_SECRET)

    @app.get("/api/presence/snapshot")
    async def snapshot(_: Principal = Depends(auth.require(Role.SERVICE))) -> dict[str, Any]:
        return {"technicians": [BEN_AVAILABLE.model_dump(mode="json")]}

    return app


@dataclass
class Portal:
    service: Service
    base_url: str
    rabbitmq_url: str
    http: httpx.AsyncClient

    @property
    def runtime(self):
        return self.service.runtime

    @property
    def handlers(self):
        return self.service.handlers

    @staticmethod
    def client_ip() -> dict[str, str]:
        """A fresh client address, so the per-address submission limit does not couple tests."""
        octets = uuid.uuid4().bytes
        return {"X-Forwarded-For": f"10.{octets[0]}.{octets[1]}.{octets[2]}"}

    async def new_portal(self, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        """A fresh company of the demo account with a portal configured as asked."""
        suffix = uuid.uuid4().hex[:8]
        company = await self.http.post("/api/portal/companies", json={"name": f"Co {suffix}"}, headers=headers)
        assert company.status_code == 201, company.text
        body = {"company_id": company.json()["company_id"], "subdomain": f"co-{suffix}", **fields}
        created = await self.http.post("/api/portal/portals", json=body, headers=headers)
        assert created.status_code == 201, created.text
        return created.json()

    async def submit(self, subdomain: str, **fields: Any) -> httpx.Response:
        return await self.submit_as(self.client_ip(), subdomain, **fields)

    async def submit_as(self, client: dict[str, str], subdomain: str, **fields: Any) -> httpx.Response:
        """A submission from the client address `client` (an X-Forwarded-For header)."""
        body = {"customer_name": "Carla", "description": "My printer is on fire", **fields}
        return await self.http.post(f"/api/portal/public/portals/{subdomain}/requests", json=body, headers=client)

    async def sign_in(self, email: str, password: str = "demo-password") -> dict[str, Any]:
        # From a fresh client address: the suite's many sign-ins must not share one allowance.
        response = await self.http.post(
            "/api/portal/auth/login", json={"email": email, "password": password}, headers=self.client_ip()
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def login(self, email: str, password: str = "demo-password") -> str:
        return (await self.sign_in(email, password))["token"]

    async def publish(self, data: EventPayload, *, occurred_at: datetime | None = None) -> Envelope[Any]:
        event: Envelope[Any] = Envelope[type(data)].of(  # type: ignore[misc]
            data, producer="test", correlation_id=getattr(data, "request_id", "c")
        )
        if occurred_at:
            event = event.model_copy(update={"occurred_at": occurred_at})
        await publish_raw(
            self.rabbitmq_url, data.routing_key(), event.model_dump_json().encode(), message_id=str(event.event_id)
        )
        return event


@pytest.fixture(scope="session")
async def presence_url():
    async with serve_in_process(presence_stand_in()) as url:
        yield url


@pytest.fixture(scope="session")
def smtp_sink():
    """Every portal-svc instance of the suite mails here (they share their queues)."""
    sink = SmtpSink("127.0.0.1", free_port()).start()
    yield sink
    sink.stop()


@asynccontextmanager
async def running_portal(
    real_backends, presence_url: str, smtp_port: int | None = None, **overrides: Any
) -> AsyncIterator[Portal]:
    """One portal-svc instance, served on its own port; instances given the same
    `mongodb_db` are replicas of one deployment (same store, same queues)."""
    fields: dict[str, Any] = {
        "mongodb_db": f"portal-{uuid.uuid4().hex[:8]}",
        "seed_demo": True,
        "presence_url": presence_url,
        "public_base_url": "http://support.test:8080",
        # An hour-long window: a budget test cannot straddle a window boundary and see the
        # previous window's attempts weighted below the limit.
        "submission_window_seconds": 3600.0,
        # Each write's outbox cleared at once: a test's clean-up step sees what just finished
        # (the batched clear has its tests in servicekit, and runs in the cost test and end to end).
        "outbox_clear_seconds": 0.0,
        **({"smtp_port": smtp_port} if smtp_port else {}),
        **overrides,
    }
    settings = real_backends.settings(Settings, **fields)
    service = bootstrap(settings)
    async with serve_in_process(service.app) as base_url:
        await wait_ready(base_url, "/api/portal/ready")
        # Tests expect Ben (from presence's snapshot) to be known: wait for it, positively.
        await eventually(lambda: service.handlers.availability.snapshot_loaded, what="availability snapshot")
        async with httpx.AsyncClient(base_url=base_url, timeout=20) as http:
            yield Portal(service, base_url, real_backends.rabbitmq_url, http)


@pytest.fixture(scope="session")
def start_portal(real_backends, presence_url, smtp_sink):
    """`async with start_portal(**settings) as instance:` another instance (see `running_portal`)."""

    def start(**overrides: Any):
        return running_portal(real_backends, presence_url, smtp_sink.port, **overrides)

    return start


@pytest.fixture(scope="session")
async def portal(real_backends, presence_url, smtp_sink):
    async with running_portal(real_backends, presence_url, smtp_sink.port) as instance:
        yield instance


@pytest.fixture(scope="session")
async def admin_token(portal) -> str:
    return await portal.login("admin@acme.test")


@pytest.fixture
def admin(admin_token) -> dict[str, str]:
    return bearer(admin_token)
