"""Web mode: offers to every available technician, the first accept wins."""

import asyncio

import pytest

from contracts import PortalConfigured
from testkit import eventually

from ..support import available, submitted, unavailable, unique

pytestmark = pytest.mark.integration


async def test_two_technicians_accepting_at_once_exactly_one_wins(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.bus.send(available("tec_bob", [company], 1))
        request_id = unique("req")
        await svc.technician_record("tec_ana", available=True)
        await svc.technician_record("tec_bob", available=True)
        await svc.bus.send(submitted(request_id, company, mode="web", portal_type="smart_button"))
        offer = await svc.wait("RequestOffered", lambda d: d["request_id"] == request_id)
        assert sorted(offer["technician_ids"]) == ["tec_ana", "tec_bob"]

        ana, bob = svc.technician("tec_ana", [company]), svc.technician("tec_bob", [company])
        responses = await asyncio.gather(
            svc.http.post(f"/requests/{request_id}/accept", headers=ana),
            svc.http.post(f"/requests/{request_id}/accept", headers=bob),
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json() == {"error": "already_taken", "message": "already taken by another technician"}
        winner = "tec_ana" if responses[0].status_code == 200 else "tec_bob"

        assigned = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)
        assert assigned["technician_id"] == winner and assigned["alert"] is False
        withdrawn = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == request_id)
        assert withdrawn["reason"] == "taken"
        assert withdrawn["technician_ids"] == [t for t in ("tec_ana", "tec_bob") if t != winner]
        await svc.handlers.sweeper.tick()  # the barrier: nothing later re-assigns it
        stored = await svc.db["requests"].find_one({"_id": request_id})
        assert (stored["state"], stored["technician_id"], stored["assignment"]) == ("assigned", winner, 1)
        assert len(svc.events("RequestAssigned", request_id)) == 1

        mine = (await svc.http.get("/requests", headers=svc.technician(winner, [company]))).json()
        assert [(r["request_id"], r["state"]) for r in mine["requests"]] == [(request_id, "assigned")]
        technician = await svc.db["technicians"].find_one({"_id": winner})
        assert technician["active"] == [request_id]


async def test_late_technician_is_offered_and_lapsed_offers_are_made_again(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(offer_timeout_seconds=1.0) as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.technician_record("tec_ana", available=True)
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company, mode="web", portal_type="smart_box"))
        first = await svc.wait("RequestOffered", lambda d: d["request_id"] == request_id)
        assert first["technician_ids"] == ["tec_ana"]

        await svc.bus.send(available("tec_bob", [company], 1))
        late = await svc.wait(
            "RequestOffered", lambda d: d["request_id"] == request_id and d["technician_ids"] == ["tec_bob"]
        )
        assert late["expires_at"] == first["expires_at"]

        again = await svc.wait(
            "RequestOffered",
            lambda d: d["request_id"] == request_id and d["expires_at"] > first["expires_at"],
        )
        assert again["technician_ids"] == ["tec_ana", "tec_bob"]

        listed = (await svc.http.get("/requests", headers=svc.technician("tec_bob", [company]))).json()
        assert [r["state"] for r in listed["requests"]] == ["offered"]

        await svc.bus.send(unavailable("tec_ana", [company], 2))
        gone = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == request_id)
        assert gone == {**gone, "technician_ids": ["tec_ana"], "reason": "technician_unavailable"}
        refused = await svc.http.post(f"/requests/{request_id}/accept", headers=svc.technician("tec_ana", [company]))
        assert refused.status_code == 409 and refused.json()["error"] == "not_offered"


async def test_smart_match_is_offered_only_to_the_chosen_technician(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.bus.send(available("tec_bob", [company], 1))
        await svc.technician_record("tec_ana", available=True)
        await svc.technician_record("tec_bob", available=True)
        chosen = unique("req")
        await svc.bus.send(
            submitted(chosen, company, mode="web", portal_type="smart_match", chosen_technician_id="tec_bob")
        )
        offer = await svc.wait("RequestOffered", lambda d: d["request_id"] == chosen)
        assert offer["technician_ids"] == ["tec_bob"]
        nobody = unique("req")
        await svc.bus.send(
            submitted(nobody, company, mode="web", portal_type="smart_match", chosen_technician_id="tec_zed")
        )
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == nobody)
        assert rejected["reason"] == "technician_unavailable" and rejected["message"]


async def test_accept_refusals_are_clear(dispatch_service):
    company, other = unique("cmp"), unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1, capacity=1))
        await svc.technician_record("tec_ana", available=True)
        first, second = unique("req"), unique("req")
        await svc.bus.send(submitted(first, company, mode="web", portal_type="smart_box"))
        await svc.bus.send(submitted(second, company, mode="web", portal_type="smart_box"))
        await svc.wait("RequestOffered", lambda d: d["request_id"] == second)
        ana = svc.technician("tec_ana", [company])

        assert (await svc.http.post(f"/requests/{first}/accept", headers=ana)).status_code == 200
        again = await svc.http.post(f"/requests/{first}/accept", headers=ana)
        assert again.status_code == 200  # a double click is harmless
        full = await svc.http.post(f"/requests/{second}/accept", headers=ana)
        assert full.status_code == 409 and full.json()["error"] == "at_capacity"

        stranger = await svc.http.post(f"/requests/{first}/accept", headers=svc.technician("tec_eve", [other]))
        assert stranger.status_code == 403 and stranger.json()["error"] == "company_forbidden"
        missing = await svc.http.post("/requests/req_nope/accept", headers=ana)
        assert missing.status_code == 404 and missing.json()["error"] == "request_not_found"
        assert (await svc.http.post(f"/requests/{first}/accept")).status_code == 401
        bad = await svc.http.post("/requests/bad id!/accept", headers=ana)
        assert bad.status_code == 422 and bad.json()["error"] == "validation_failed"
        from servicekit.auth import Role
        from testkit.plugin import make_token

        customer = {"Authorization": "Bearer " + make_token(Role.CUSTOMER, subject=first, company_ids=[company])}
        assert (await svc.http.get("/requests", headers=customer)).json()["error"] == "wrong_role"


async def test_requests_of_a_portal_made_inactive_are_rejected(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:

        def portal(status: str, revision: int) -> PortalConfigured:
            return PortalConfigured(
                portal_id=f"prt_{company}",
                account_id="acc_test",
                company_id=company,
                subdomain=company,
                status=status,
                mode="web",
                portal_type="smart_box",
                revision=revision,
            )

        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.bus.send(portal("inactive", 2))
        await svc.bus.send(portal("active", 1))  # stale: an older revision changes nothing
        await svc.technician_record("tec_ana", available=True)
        # The barrier: a later event on the portals' queue (one consumer, in order) was absorbed.
        await svc.bus.send(PortalConfigured(**{**portal("active", 1).model_dump(), "portal_id": "prt_marker"}))
        await eventually(lambda: svc.db["portals"].count_documents({"_id": "prt_marker"}))
        assert (await svc.db["portals"].find_one({"_id": f"prt_{company}"}))["status"] == "inactive"
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company, mode="web", portal_type="smart_box"))
        rejected = await svc.wait("RequestRejected", lambda d: d["request_id"] == request_id)
        assert rejected["reason"] == "portal_inactive" and "Service unavailable" in rejected["message"]
        assert not svc.events("RequestOffered", request_id)
