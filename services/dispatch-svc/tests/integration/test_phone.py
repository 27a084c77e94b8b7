"""Phone mode: connection codes and the requests that carry them."""

import asyncio

import pytest

from contracts import PortalConfigured
from testkit import eventually

from ..support import submitted, unique, updated

pytestmark = pytest.mark.integration


def phone(request_id: str, company: str, code: str):
    return submitted(request_id, company, mode="phone", portal_type="smart_pin", connection_code=code)


async def test_a_valid_code_connects_to_its_technician_once(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        ana = svc.technician("tec_ana", [company])
        await svc.bus.send(updated("tec_ana", [company], 1, capacity=3))
        await svc.technician_record("tec_ana", revision=1)
        created = await svc.http.post("/codes", json={"company_id": company}, headers=ana)
        assert created.status_code == 201
        code = created.json()
        assert code["code"].isdigit() and len(code["code"]) == 9
        issued = await svc.wait("ConnectionCodeIssued", lambda d: d["code_id"] == code["code_id"])
        assert "code" not in issued  # the digits are never published
        listed = (await svc.http.get("/codes", headers=ana)).json()["codes"]
        assert [c["code_id"] for c in listed] == [code["code_id"]]

        first = unique("req")
        await svc.bus.send(phone(first, company, code["code"]))
        assigned = await svc.wait("RequestAssigned", lambda d: d["request_id"] == first)
        assert assigned["technician_id"] == "tec_ana" and assigned["alert"] is False and assigned["mode"] == "phone"

        reuse = unique("req")
        await svc.bus.send(phone(reuse, company, code["code"]))
        used = await svc.wait("RequestRejected", lambda d: d["request_id"] == reuse)
        assert used["reason"] == "used_code" and "already used" in used["message"]
        assert (await svc.http.get("/codes", headers=ana)).json()["codes"] == []

        wrong = unique("req")
        await svc.bus.send(phone(wrong, company, "000000000" if code["code"] != "000000000" else "000000001"))
        invalid = await svc.wait("RequestRejected", lambda d: d["request_id"] == wrong)
        assert invalid["reason"] == "invalid_code"

        confirm = await svc.http.post(f"/requests/{first}/accept", headers=ana)
        assert confirm.status_code == 200 and confirm.json()["state"] == "assigned"


async def test_expired_and_revoked_codes_do_not_connect(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(code_ttl_seconds=0.5) as svc:
        ana = svc.technician("tec_ana", [company])
        code = (await svc.http.post("/codes", json={"company_id": company}, headers=ana)).json()
        await asyncio.sleep(1.0)  # the code's lifetime passes
        late = unique("req")
        await svc.bus.send(phone(late, company, code["code"]))
        expired = await svc.wait("RequestRejected", lambda d: d["request_id"] == late)
        assert expired["reason"] == "expired_code" and "expired" in expired["message"]

    async with dispatch_service() as svc:
        ana = svc.technician("tec_ana", [company])
        code = (await svc.http.post("/codes", json={"company_id": company}, headers=ana)).json()
        assert (await svc.http.delete(f"/codes/{code['code_id']}", headers=ana)).status_code == 204
        revoked = await svc.wait("ConnectionCodeRevoked", lambda d: d["code_id"] == code["code_id"])
        assert revoked["technician_id"] == "tec_ana"
        again = await svc.http.delete(f"/codes/{code['code_id']}", headers=ana)
        assert again.status_code == 404 and again.json()["error"] == "code_not_found"
        attempt = unique("req")
        await svc.bus.send(phone(attempt, company, code["code"]))
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == attempt)
        assert rejected["reason"] == "invalid_code"


async def test_at_most_eight_live_codes_even_when_asked_at_once(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        ana = svc.technician("tec_ana", [company])
        responses = await asyncio.gather(
            *(svc.http.post("/codes", json={"company_id": company}, headers=ana) for _ in range(11))
        )
        assert sorted(r.status_code for r in responses) == [201] * 8 + [409] * 3
        refused = next(r for r in responses if r.status_code == 409).json()
        assert refused["error"] == "too_many_codes"
        codes = (await svc.http.get("/codes", headers=ana)).json()["codes"]
        assert len({c["code"] for c in codes}) == 8
        await svc.http.delete(f"/codes/{codes[0]['code_id']}", headers=ana)
        assert (await svc.http.post("/codes", json={"company_id": company}, headers=ana)).status_code == 201

        other = await svc.http.post("/codes", json={"company_id": "cmp_other"}, headers=ana)
        assert other.status_code == 403
        bad = await svc.http.post("/codes", json={"company_id": ""}, headers=ana)
        assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "company_id"


async def test_code_guessing_is_rate_limited(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(code_failures_per_window=3, code_failure_window_seconds=30) as svc:
        ana = svc.technician("tec_ana", [company])
        await svc.bus.send(updated("tec_ana", [company], 1, capacity=3))
        code = (await svc.http.post("/codes", json={"company_id": company}, headers=ana)).json()["code"]
        wrong = f"{(int(code) + 1) % 10**9:09d}"
        for _ in range(3):
            guess = unique("req")
            await svc.bus.send(phone(guess, company, wrong))
            await svc.wait("RequestRejected", lambda d, g=guess: d["request_id"] == g)
        lucky = unique("req")
        await svc.bus.send(phone(lucky, company, code))
        throttled = await svc.wait("RequestRejected", lambda d: d["request_id"] == lucky)
        assert throttled["reason"] == "invalid_code" and "Too many" in throttled["message"]
        assert len((await svc.http.get("/codes", headers=ana)).json()["codes"]) == 1  # still usable later
        await svc.db["code_guards"].delete_many({})
        patient = unique("req")
        await svc.bus.send(phone(patient, company, code))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == patient)


async def test_code_of_a_busy_technician_stays_usable(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        ana = svc.technician("tec_ana", [company])
        await svc.bus.send(updated("tec_ana", [company], 1, capacity=1))
        await svc.technician_record("tec_ana", revision=1)
        first, second = [
            (await svc.http.post("/codes", json={"company_id": company}, headers=ana)).json() for _ in "ab"
        ]
        busy = unique("req")
        await svc.bus.send(phone(busy, company, first["code"]))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == busy)
        blocked = unique("req")
        await svc.bus.send(phone(blocked, company, second["code"]))
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == blocked)
        assert rejected["reason"] == "technician_unavailable"
        assert [c["code_id"] for c in (await svc.http.get("/codes", headers=ana)).json()["codes"]] == [
            second["code_id"]
        ]


async def test_codes_only_for_companies_with_a_phone_portal(dispatch_service):
    web, phone = unique("cmp"), unique("cmp")
    async with dispatch_service() as svc:
        for company, mode, portal_type in ((web, "web", "smart_box"), (phone, "phone", "smart_pin")):
            await svc.bus.send(
                PortalConfigured(
                    portal_id=f"prt_{company}",
                    account_id="acc_test",
                    company_id=company,
                    subdomain=company,
                    status="active",
                    mode=mode,
                    portal_type=portal_type,
                    revision=1,
                )
            )
        await svc.bus.send(updated("tec_ana", [web, phone], 1, capacity=3))
        await svc.technician_record("tec_ana", revision=1)

        async def both_portals_known() -> bool:
            return await svc.db["portals"].count_documents({"company_id": {"$in": [web, phone]}}) == 2

        await eventually(both_portals_known, what="dispatch knows both portals")
        token = svc.technician("tec_ana", [web, phone])

        refused = await svc.http.post("/codes", json={"company_id": web}, headers=token)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "not_phone_mode"
        assert "Web mode" in refused.json()["message"] and "nowhere to enter" in refused.json()["message"]
        assert (await svc.http.post("/codes", json={"company_id": phone}, headers=token)).status_code == 201
        listed = (await svc.http.get("/codes", headers=token)).json()
        assert listed["company_ids"] == [phone]
        assert [c["company_id"] for c in listed["codes"]] == [phone]
