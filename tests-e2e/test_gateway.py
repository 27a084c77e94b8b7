"""The whole system answers through one origin."""

import httpx
import pytest

pytestmark = pytest.mark.e2e

SERVICES = ("portal", "presence", "dispatch", "chat")


async def test_every_service_reports_ready_through_the_gateway(system):
    async with httpx.AsyncClient(base_url=system.gateway_url) as client:
        assert (await client.get("/gateway/health")).json() == {"status": "ok"}
        for service in SERVICES:
            ready = await client.get(f"/api/{service}/ready")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"rabbitmq": "ok", "mongodb": "ok"}


async def test_each_service_publishes_its_api_and_event_documents(system):
    async with httpx.AsyncClient(base_url=system.gateway_url) as client:
        for service in SERVICES:
            openapi = (await client.get(f"/api/{service}/openapi.json")).json()
            assert openapi["info"]["title"] == f"{service}-svc"
            asyncapi = (await client.get(f"/api/{service}/asyncapi.json")).json()
            assert asyncapi["info"]["title"] == f"{service}-svc"


async def test_unknown_api_path_is_a_json_404(system):
    async with httpx.AsyncClient(base_url=system.gateway_url) as client:
        response = await client.get("/api/dispatch/no-such-thing")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
