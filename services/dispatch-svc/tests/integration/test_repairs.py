"""Known gaps of the sweeper and of slot release, each checked by running the use case itself
(the sweeper's tick, the consumer's handler) as the barrier before asserting."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from dispatch_svc.handlers.clock import now
from servicekit.auth import Principal, Role
from servicekit.outbox import OUTBOX

from ..support import ACCOUNT, available, ended, envelope, submitted, unique

pytestmark = pytest.mark.integration


def stored_request(request_id: str, company: str, state: str, *, rev: int, created_at: datetime) -> dict[str, Any]:
    """A request as dispatch stores it, written straight to the store (no event routes it)."""
    document = submitted(request_id, company).model_dump()
    return {
        **{k: v for k, v in document.items() if k != "request_id"},
        "_id": request_id,
        "state": state,
        "rev": rev,
        "queued_since": document["submitted_at"],
        "correlation_id": f"corr-{request_id}",
        "offered_to": [],
        "assignment": 0,
        "created_at": created_at,
    }


async def test_a_code_revoked_while_the_sweeper_retires_it_keeps_its_revocation(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(code_ttl_seconds=0.2, sweep_interval_seconds=3600) as svc:
        codes = svc.handlers.codes
        principal = Principal(subject="tec_ana", role=Role.TECHNICIAN, account_id=ACCOUNT, company_ids=[company])
        issued = await codes.issue(principal, company)
        await svc.wait("ConnectionCodeIssued", lambda d: d["code_id"] == issued["_id"])
        await svc.technician_record("tec_ana")

        async def expired():
            return [c for c in await codes.codes.retirable(now()) if c["_id"] == issued["_id"]]

        from testkit import eventually

        (read_by_the_sweeper,) = await eventually(expired)
        # Meanwhile the technician revokes it; its event is still staged when the sweeper
        # goes on (the revoking worker is between its write and its publication).
        await codes.codes.live.raw.update_one(
            {"_id": issued["_id"]},
            {
                "$set": {"revoked": True},
                "$push": {OUTBOX: {"_id": "evt_pending", "type": "ConnectionCodeRevoked", "body": {}}},
            },
        )
        await codes.retire(read_by_the_sweeper)
        kept = await svc.db["codes"].find_one({"_id": issued["_id"]})
        assert kept is not None and kept[OUTBOX][0]["_id"] == "evt_pending"

        # Once its event is out, the next sweep files it — as revoked.
        await svc.db["codes"].update_one({"_id": issued["_id"]}, {"$unset": {OUTBOX: ""}})
        assert await svc.handlers.sweeper.tick() == 0
        assert await svc.db["codes"].count_documents({"_id": issued["_id"]}) == 0
        assert (await svc.db["code_history"].find_one({"_id": issued["_id"]}))["status"] == "revoked"


async def test_one_failing_request_does_not_stop_the_other_repairs_of_a_tick(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(sweep_interval_seconds=3600) as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.technician_record("tec_ana", available=True)
        long_ago = now() - timedelta(seconds=60)
        broken, stranded = unique("req_broken"), unique("req_stranded")
        # A request the sweeper cannot route (its mode is missing), stored first.
        await svc.db["requests"].insert_one(
            {"_id": broken, "state": "new", "rev": 0, "company_id": unique("cmp"), "created_at": long_ago}
        )
        await svc.db["requests"].insert_one(stored_request(stranded, company, "new", rev=0, created_at=long_ago))
        assert await svc.handlers.sweeper.tick() == 1  # the broken one failed, and was logged
        assigned = await svc.wait("RequestAssigned", lambda d: d["request_id"] == stranded)
        assert assigned["technician_id"] == "tec_ana"


async def test_the_sweeper_serves_a_queue_only_once_a_request_has_waited_past_stuck_after(dispatch_service):
    """Events serve a queue as technicians free room; the sweeper serves a company again only
    once a request has waited longer than `stuck_after`, not on every tick under load."""
    company = unique("cmp")
    async with dispatch_service(sweep_interval_seconds=3600, stuck_after_seconds=10.0) as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.technician_record("tec_ana", available=True)
        request_id = unique("req")
        # Queued a moment ago, the technician's room already there: as if the event that
        # serves it were still on its way.
        await svc.db["requests"].insert_one(stored_request(request_id, company, "queued", rev=1, created_at=now()))
        assert await svc.handlers.sweeper.tick() == 0  # the barrier: a whole tick ran
        assert (await svc.db["requests"].find_one({"_id": request_id}))["state"] == "queued"

        await svc.db["requests"].update_one(
            {"_id": request_id}, {"$set": {"created_at": now() - timedelta(seconds=11)}}
        )
        assert await svc.handlers.sweeper.tick() == 0
        assigned = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)
        assert assigned["technician_id"] == "tec_ana"


async def test_a_session_end_frees_only_the_slot_of_that_assignment(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(sweep_interval_seconds=3600) as svc:
        await svc.bus.send(available("tec_ana", [company], 1, capacity=2))
        await svc.bus.send(available("tec_bob", [company], 1, capacity=2))
        await svc.technician_record("tec_ana", available=True)
        await svc.technician_record("tec_bob", available=True)
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company))
        first = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)
        holder = first["technician_id"]
        other = "tec_bob" if holder == "tec_ana" else "tec_ana"
        # The other technician's claim for the same request is in flight (slot taken, request
        # claim not written yet) when a session end naming them arrives.
        await svc.db["technicians"].update_one(
            {"_id": other}, {"$push": {"active": request_id}, "$set": {f"claimed_at.{request_id}": now()}}
        )
        await svc.handlers.lifecycle.session_ended(envelope(ended(request_id, company, other), producer="chat-svc"))
        assert (await svc.db["technicians"].find_one({"_id": other}))["active"] == [request_id]
        assert (await svc.db["requests"].find_one({"_id": request_id}))["state"] == "assigned"

        # The holder's session end completes the request and frees the holder's slot.
        end = envelope(ended(request_id, company, holder), producer="chat-svc")
        await svc.handlers.lifecycle.session_ended(end)
        await svc.handlers.lifecycle.session_ended(end)  # a redelivery changes nothing more
        assert (await svc.db["technicians"].find_one({"_id": holder}))["active"] == []
        assert (await svc.db["requests"].find_one({"_id": request_id}))["state"] == "completed"
