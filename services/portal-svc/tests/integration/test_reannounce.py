"""Re-announcing technicians: on demand, and once per deployment version at start-up, for
services that started following `TechnicianUpdated` after some technicians were announced."""

import pytest

from contracts import CompanyUpdated, TechnicianUpdated
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


async def test_reannounce_publishes_every_company_and_numbers_the_ones_stored_before_revisions(portal, admin):
    companies = portal.runtime.db["companies"]
    # A company stored before companies had revisions (and events).
    await companies.insert_one({"_id": "cmp_legacy_reannounce", "account_id": "acc_acme", "name": "Legacy Ltd"})
    async with AmqpTap(portal.rabbitmq_url, CompanyUpdated.routing_key()) as tap:
        assert await portal.handlers.companies.reannounce() >= 3
        legacy = await tap.wait_for(lambda m: m["data"]["company_id"] == "cmp_legacy_reannounce")
        globex = await tap.wait_for(lambda m: m["data"]["company_id"] == "cmp_globex")
    assert (legacy["data"]["name"], legacy["data"]["revision"], legacy["data"]["deleted"]) == ("Legacy Ltd", 1, False)
    assert (await companies.find_one({"_id": "cmp_legacy_reannounce"}))["revision"] == 1
    assert globex["data"]["revision"] >= 1 and globex["data"]["account_id"] == "acc_acme"
    # Other tests share the demo account: the legacy company goes again (as any other would).
    deleted = await portal.http.delete("/api/portal/companies/cmp_legacy_reannounce", headers=admin)
    assert deleted.status_code == 200, deleted.text
