"""Submitting a request: the smoke path, no loss across a publisher crash, rate limits, validation."""

import pytest

from contracts import Envelope, RequestSubmitted
from portal_svc.bootstrap import EMITS, build_handlers
from portal_svc.domain.commands import SubmitRequest
from servicekit.runtime import create_runtime
from testkit import eventually
from testkit.amqp import AmqpTap

pytestmark = pytest.mark.integration


async def test_submission_publishes_a_valid_request_submitted_envelope(portal):
    async with AmqpTap(portal.rabbitmq_url, "request.submitted.*") as tap:
        response = await portal.submit("globex", customer_email="Carla@Example.com")
        assert response.status_code == 201, response.text
        body = response.json()
        message = await tap.wait_for(lambda m: m["data"]["request_id"] == body["request_id"])
    event = Envelope[RequestSubmitted].model_validate(message)
    assert event.producer == "portal-svc"
    assert event.correlation_id == body["request_id"]
    assert (event.data.company_id, event.data.portal_id) == ("cmp_globex", "prt_globex")
    assert (event.data.mode, event.data.portal_type) == ("web", "smart_box")
    assert event.data.customer_email == "carla@example.com"
    assert body["status_url"].endswith(f"/api/portal/requests/{body['request_id']}")
    status = await portal.http.get(
        f"/api/portal/requests/{body['request_id']}", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert status.json()["status"] == "submitted"


async def test_request_stored_by_a_publisher_that_died_is_published_by_the_sweeper(portal):
    # A second instance whose broker never connects: it stores the request with its staged
    # event, and its publish fails exactly as if the process had died right after the write.
    settings = portal.runtime.settings
    dead = create_runtime(settings, emits=EMITS)
    handlers, _ = build_handlers(dead, settings)
    async with AmqpTap(portal.rabbitmq_url, "request.submitted.*") as tap:
        submitted = await handlers.customers.submit("globex", SubmitRequest(customer_name="Dora", description="lost?"))
        stored = await portal.runtime.db["requests"].find_one({"_id": submitted["request_id"]})
        assert [entry["type"] for entry in stored["_outbox"]] == ["RequestSubmitted"]
        assert tap.of_type("RequestSubmitted") == []
        # The live service's sweeper picks it up once the writer's grace period has passed.
        message = await tap.wait_for(lambda m: m["data"]["request_id"] == submitted["request_id"], timeout=20)
    assert message["data"]["customer_name"] == "Dora"

    async def outbox_cleared() -> bool:
        return "_outbox" not in await portal.runtime.db["requests"].find_one({"_id": submitted["request_id"]})

    await eventually(outbox_cleared, what="outbox cleared after publication")
    await dead.mongo.close()
