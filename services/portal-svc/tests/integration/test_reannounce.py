"""Re-announcing technicians: on demand, and once per deployment version at start-up, for
services that started following `TechnicianUpdated` after some technicians were announced."""

import pytest

from contracts import TechnicianUpdated
from portal_svc.bootstrap import deployment_version
from testkit import eventually
from testkit.amqp import AmqpTap

pytestmark = pytest.mark.integration


async def test_reannounce_publishes_every_technician_at_its_current_revision(portal):
    users = portal.runtime.db["users"]
    technicians = {doc["_id"]: doc["revision"] async for doc in users.find({"role": "technician"})}
    async with AmqpTap(portal.rabbitmq_url, TechnicianUpdated.routing_key()) as tap:
        count = await portal.handlers.technicians.reannounce()
        assert count >= len(technicians) - 1  # one may be changed meanwhile by another test
        for technician_id in ("tec_ana", "tec_ben", "tec_chloe"):
            message = await tap.wait_for(lambda m, t=technician_id: m["data"]["technician_id"] == t)
            current = await users.find_one({"_id": technician_id})
            assert message["data"]["revision"] <= current["revision"]
            assert message["data"]["revision"] >= technicians[technician_id]


async def test_start_up_reannounces_once_per_deployment_version(portal):
    markers = portal.runtime.db["markers"]
    version = deployment_version(portal.runtime.settings)
    await eventually(lambda: portal.handlers.housekeeping.reannounced, what="start-up re-announcement")
    assert await markers.find_one({"_id": f"technicians-reannounced:{version}"}) is not None
    housekeeping = portal.handlers.housekeeping
    assert await housekeeping.reannounce_once(version) is False  # already done by the start-up
    assert await housekeeping.reannounce_once("test-next-version") is True
    assert await housekeeping.reannounce_once("test-next-version") is False
