"""Foundation smoke test: a submission through the gateway reaches an external subscriber."""

import httpx
import pytest

from contracts import Envelope, RequestSubmitted
from testkit.amqp import AmqpTap

pytestmark = pytest.mark.e2e


async def test_submission_publishes_request_submitted_to_an_external_subscriber(system):
    # The way another system listens: its own queue, bound by routing-key pattern.
    async with AmqpTap(system.backends.rabbitmq_url, "request.submitted.*") as tap:
        async with httpx.AsyncClient(base_url=system.gateway_url) as client:
            response = await client.post(
                "/api/portal/public/portals/initech/requests",
                json={"customer_name": "Smoke Test", "description": "My printer is on fire"},
            )
            assert response.status_code == 201, response.text
            request_id = response.json()["request_id"]

        message = await tap.wait_for(lambda m: m["data"]["request_id"] == request_id)

    event = Envelope[RequestSubmitted].model_validate(message)
    assert event.type == "RequestSubmitted"
    assert event.producer == "portal-svc"
    assert event.data.company_id == "cmp_initech"
    assert event.data.description == "My printer is on fire"
    assert event.data.mode.value == "queue"
