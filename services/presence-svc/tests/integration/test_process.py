"""`python -m presence_svc` runs as its own process, as in production."""

import httpx
import pytest

from testkit.services import ServiceProcess, wait_ready

pytestmark = pytest.mark.integration


async def test_the_service_process_starts_and_reports_ready(real_backends):
    env = {**real_backends.env("presence-svc"), "MONGODB_DB": f"presence-process-{real_backends.run_id}"}
    process = ServiceProcess("presence_svc", env)
    process.start()
    try:
        await wait_ready(process.base_url, "/api/presence/ready")
        async with httpx.AsyncClient() as client:
            response = await client.get(process.base_url + "/api/presence/me")
            assert response.status_code == 401 and response.json()["error"] == "missing_token"
    finally:
        process.stop()
