"""Start-up never waits for presence-svc, and the demo seed is idempotent."""

import uuid

import httpx
import pytest

from portal_svc.bootstrap import bootstrap
from portal_svc.config import Settings
from testkit.backends import free_port
from testkit.services import serve_in_process, wait_ready

pytestmark = pytest.mark.integration


async def test_starts_and_serves_while_presence_is_unreachable_then_seed_again_changes_nothing(real_backends):
    settings = real_backends.settings(
        Settings,
        mongodb_db=f"portal-start-{uuid.uuid4().hex[:8]}",
        seed_demo=True,
        presence_url=f"http://127.0.0.1:{free_port()}",
        presence_retry_seconds=0.2,
    )
    service = bootstrap(settings)
    async with serve_in_process(service.app) as base_url:
        await wait_ready(base_url, "/api/portal/ready", timeout=30)
        async with httpx.AsyncClient(base_url=base_url) as http:
            # Nobody known to be available yet: the Web portal honestly says so.
            assert (await http.get("/api/portal/public/portals/globex")).json()["view"] == "no_technician"
            login = await http.post(
                "/api/portal/auth/login", json={"email": "admin@acme.test", "password": "demo-password"}
            )
            assert login.status_code == 200
        users_before = await service.runtime.db["users"].count_documents({})
        assert await service.handlers.seed.run() is False
        assert await service.runtime.db["users"].count_documents({}) == users_before == 4
        assert await service.runtime.db["portals"].count_documents({}) == 2
