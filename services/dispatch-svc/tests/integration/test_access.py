"""Access follows dispatch's own record of the technician (`TechnicianUpdated`), not the
token: a technician removed from a company (or deleted) can no longer issue codes for it,
accept its offers, or be connected by a code issued earlier."""

from datetime import timedelta

import pytest

from dispatch_svc.handlers.clock import now

from ..support import ACCOUNT, available, submitted, unique, updated

pytestmark = pytest.mark.integration


def phone(request_id: str, company: str, code: str):
    return submitted(request_id, company, mode="phone", portal_type="smart_pin", connection_code=code)


async def test_a_technician_removed_from_a_company_can_no_longer_issue_or_be_reached_by_its_codes(dispatch_service):
    kept, removed = unique("cmp"), unique("cmp")
    async with dispatch_service() as svc:
        token = svc.technician("tec_ana", [kept, removed])  # issued before the removal, still valid
        await svc.bus.send(updated("tec_ana", [kept, removed], 1, capacity=3))
        await svc.technician_record("tec_ana", revision=1)
        earlier = await svc.http.post("/codes", json={"company_id": removed}, headers=token)
        assert earlier.status_code == 201
        code = earlier.json()

        await svc.bus.send(updated("tec_ana", [kept], 2, capacity=3))
        await svc.technician_record("tec_ana", revision=2)
        refused = await svc.http.post("/codes", json={"company_id": removed}, headers=token)
        assert refused.status_code == 403 and refused.json()["error"] == "company_forbidden"
        assert (await svc.http.post("/codes", json={"company_id": kept}, headers=token)).status_code == 201
        listed = (await svc.http.get("/codes", headers=token)).json()["codes"]
        assert {c["company_id"] for c in listed} == {kept}

        customer = unique("req")
        await svc.bus.send(phone(customer, removed, code["code"]))
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == customer)
        assert rejected["reason"] == "invalid_code"
        assert not svc.events("RequestAssigned", customer)
        assert (await svc.db["technicians"].find_one({"_id": "tec_ana"}))["active"] == []
        revoked = await svc.wait("ConnectionCodeRevoked", lambda d: d["code_id"] == code["code_id"])
        assert revoked["technician_id"] == "tec_ana"


async def test_a_code_left_live_does_not_connect_a_technician_without_access(dispatch_service):
    # The connecting path itself checks the record (not only the revocation on removal).
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(updated("tec_ana", [unique("cmp")], 1, capacity=3))
        await svc.technician_record("tec_ana", revision=1)
        await svc.db["codes"].insert_one(
            {
                "_id": "cod_stale",
                "code": "123454321",
                "account_id": ACCOUNT,
                "company_id": company,
                "technician_id": "tec_ana",
                "expires_at": now() + timedelta(minutes=5),
                "created_at": now(),
                "used_by": None,
                "revoked": False,
            }
        )
        customer = unique("req")
        await svc.bus.send(phone(customer, company, "123454321"))
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == customer)
        assert rejected["reason"] == "invalid_code"
        assert (await svc.db["technicians"].find_one({"_id": "tec_ana"}))["active"] == []


async def test_a_deleted_technician_issues_no_code_and_is_reached_by_none(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        token = svc.technician("tec_ana", [company])
        await svc.bus.send(updated("tec_ana", [company], 1, capacity=3))
        await svc.technician_record("tec_ana", revision=1)
        code = (await svc.http.post("/codes", json={"company_id": company}, headers=token)).json()
        await svc.bus.send(updated("tec_ana", [company], 2, capacity=3, enabled=False))
        await svc.technician_record("tec_ana", revision=2, enabled=False)
        refused = await svc.http.post("/codes", json={"company_id": company}, headers=token)
        assert refused.status_code == 403
        assert (await svc.http.get("/codes", headers=token)).json()["codes"] == []
        customer = unique("req")
        await svc.bus.send(phone(customer, company, code["code"]))
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == customer)
        assert rejected["reason"] == "invalid_code"


async def test_a_removed_technician_cannot_accept_an_offer_of_that_company(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        token = svc.technician("tec_ana", [company])
        await svc.bus.send(updated("tec_ana", [company], 1))
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.bus.send(available("tec_bob", [company], 1))
        await svc.technician_record("tec_ana", available=True, revision=1)
        await svc.technician_record("tec_bob", available=True)
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company, mode="web", portal_type="smart_box"))
        offer = await svc.wait("RequestOffered", lambda d: d["request_id"] == request_id)
        assert offer["technician_ids"] == ["tec_ana", "tec_bob"]

        await svc.bus.send(updated("tec_ana", [], 2))
        await svc.technician_record("tec_ana", revision=2)
        refused = await svc.http.post(f"/requests/{request_id}/accept", headers=token)
        assert refused.status_code == 403 and refused.json()["error"] == "company_forbidden"
        assert (await svc.http.get("/requests", headers=token)).json()["requests"] == []
        taken = await svc.http.post(f"/requests/{request_id}/accept", headers=svc.technician("tec_bob", [company]))
        assert taken.status_code == 200


async def test_an_availability_built_before_an_access_removal_restores_neither_company_nor_capacity(dispatch_service):
    kept, removed = unique("cmp"), unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(updated("tec_ana", [kept], 2, capacity=1))
        await svc.technician_record("tec_ana", revision=2)
        # Presence built this before it heard of the removal (a newer sequence all the same).
        await svc.bus.send(available("tec_ana", [kept, removed], 7, capacity=3))
        await svc.technician_record("tec_ana", sequence=7, available=True)

        elsewhere = unique("req")
        await svc.bus.send(submitted(elsewhere, removed))
        queued = await svc.wait("RequestQueued", lambda d: d["request_id"] == elsewhere)
        assert queued["position"] == 1
        first, second = unique("req"), unique("req")
        await svc.bus.send(submitted(first, kept))
        assert (await svc.wait("RequestAssigned", lambda d: d["request_id"] == first))["technician_id"] == "tec_ana"
        await svc.bus.send(submitted(second, kept))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == second)  # capacity is still 1
        assert not svc.events("RequestAssigned", elsewhere)
        ana = await svc.db["technicians"].find_one({"_id": "tec_ana"})
        assert ana["company_ids"] == [kept] and ana["capacity"] == 1 and ana["active"] == [first]
