"""Queue mode: round robin, FIFO, capacity, acknowledgement timeout, cancellation."""

import asyncio
import itertools
from datetime import datetime

import pytest

from testkit import eventually

from ..support import ACCOUNT, available, cancelled, ended, started, submitted, unavailable, unique

pytestmark = pytest.mark.integration


async def test_round_robin_is_fair_over_many_requests(dispatch_service):
    company = unique("cmp")
    technicians = ["tec_a", "tec_b", "tec_c"]
    async with dispatch_service() as svc:
        for technician in technicians:
            await svc.bus.send(available(technician, [company], 1, capacity=10))
        for technician in technicians:
            await svc.technician_record(technician, available=True)
        request_ids = [unique(f"req{i:02d}") for i in range(12)]
        for request_id in request_ids:
            await svc.bus.send(submitted(request_id, company))
            await svc.wait("RequestAssigned", lambda d, r=request_id: d["request_id"] == r)
        order = [svc.events("RequestAssigned", r)[0]["technician_id"] for r in request_ids]
        # Nobody had an assignment yet, so ties go by id; then strictly the oldest last assignment.
        assert order == technicians * 4
        assert all(svc.events("RequestAssigned", r)[0]["alert"] is True for r in request_ids)
        assert not svc.events("RequestQueued")


async def test_fifo_queue_when_nobody_is_available_then_served_in_order(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_ids = [unique(f"req{i}") for i in range(3)]
        for request_id in request_ids:
            await svc.bus.send(submitted(request_id, company))
            await svc.wait("RequestQueued", lambda d, r=request_id: d["request_id"] == r)
        assert [svc.events("RequestQueued", r)[0]["position"] for r in request_ids] == [1, 2, 3]

        await svc.bus.send(available("tec_ana", [company], 1, capacity=1))
        first = await svc.wait("RequestAssigned")
        assert first["request_id"] == request_ids[0] and first["technician_id"] == "tec_ana"
        # The barrier: a sweep (which serves every waiting company) has run since.
        await svc.handlers.sweeper.tick()
        # Capacity 1: the others keep waiting.
        assert await svc.db["requests"].count_documents({"state": "assigned"}) == 1
        assert len(svc.events("RequestAssigned")) == 1

        for served, following in itertools.pairwise(request_ids):
            await svc.bus.send(ended(served, company, "tec_ana"))
            nxt = await svc.wait("RequestAssigned", lambda d, r=following: d["request_id"] == r)
            assert nxt["technician_id"] == "tec_ana"
        await svc.bus.send(ended(request_ids[-1], company, "tec_ana"))
        await svc.technician_record("tec_ana", active=[])
        await svc.handlers.sweeper.tick()
        assert await svc.db["requests"].count_documents({}) == 0
        history = [d async for d in svc.db["request_history"].find({"_id": {"$in": request_ids}})]
        assert sorted(d["state"] for d in history) == ["completed"] * 3
        assert (await svc.db["technicians"].find_one({"_id": "tec_ana"}))["active"] == []


async def test_a_newcomer_does_not_jump_the_queue(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        waiting = unique("req_old")
        await svc.bus.send(submitted(waiting, company))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == waiting)
        await svc.bus.send(available("tec_ana", [company], 1, capacity=1))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == waiting)
        newcomer = unique("req_new")
        await svc.bus.send(submitted(newcomer, company))
        queued = await svc.wait("RequestQueued", lambda d: d["request_id"] == newcomer)
        assert queued["position"] == 1


async def test_unacknowledged_assignment_goes_back_to_the_head_and_to_the_next_technician(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(accept_timeout_seconds=1.0) as svc:
        await svc.bus.send(available("tec_ana", [company], 1, capacity=2))
        await svc.bus.send(available("tec_bob", [company], 1, capacity=2))
        await svc.technician_record("tec_ana", available=True)
        await svc.technician_record("tec_bob", available=True)
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company))
        first = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)
        assert (first["technician_id"], first["assignment"]) == ("tec_ana", 1)

        lapsed = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == request_id)
        assert lapsed["technician_ids"] == ["tec_ana"] and lapsed["reason"] == "expired"
        requeued = await svc.wait("RequestQueued", lambda d: d["request_id"] == request_id)
        assert requeued["position"] == 1
        second = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id and d["assignment"] == 2)
        assert second["technician_id"] == "tec_bob"
        stored = await svc.db["requests"].find_one({"_id": request_id})
        assert datetime.fromisoformat(requeued["queued_since"]) == stored["submitted_at"]  # back at the head

        # Bob acknowledges in time: it stays his.
        ack = await svc.http.post(f"/requests/{request_id}/accept", headers=svc.technician("tec_bob", [company]))
        assert ack.status_code == 200 and ack.json()["acknowledged"] is True
        late = await svc.http.post(f"/requests/{request_id}/accept", headers=svc.technician("tec_ana", [company]))
        assert late.status_code == 409 and late.json()["error"] == "not_assigned_to_you"
        await asyncio.sleep(1.2)  # past Bob's acknowledgement deadline, had he not acknowledged
        await svc.handlers.sweeper.tick()  # the barrier: the sweep that would take it back ran
        stored = await svc.db["requests"].find_one({"_id": request_id})
        assert (stored["state"], stored["technician_id"], stored["assignment"]) == ("assigned", "tec_bob", 2)
        assert len(svc.events("RequestAssigned", request_id)) == 2
        assert (await svc.db["technicians"].find_one({"_id": "tec_ana"}))["active"] == []


async def test_an_acknowledgement_publishes_request_acknowledged_once_and_a_repeat_publishes_nothing(
    dispatch_service,
):
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1, capacity=2))
        await svc.technician_record("tec_ana", available=True)
        ana = svc.technician("tec_ana", [company])
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)

        # Bob is not the one assigned: his accept is refused and publishes nothing.
        bob = await svc.http.post(f"/requests/{request_id}/accept", headers=svc.technician("tec_bob", [company]))
        assert bob.status_code == 409 and bob.json()["error"] == "not_assigned_to_you"
        ack = await svc.http.post(f"/requests/{request_id}/accept", headers=ana)
        assert ack.status_code == 200 and ack.json()["acknowledged"] is True
        event = await svc.wait("RequestAcknowledged", lambda d: d["request_id"] == request_id)
        assert event == {
            **event,
            "account_id": ACCOUNT,
            "company_id": company,
            "technician_id": "tec_ana",
            "assignment": 1,
        }
        assert datetime.fromisoformat(event["acknowledged_at"]) >= datetime.fromisoformat(
            svc.events("RequestAssigned", request_id)[0]["assigned_at"]
        )
        stored = await svc.db["requests"].find_one({"_id": request_id})
        assert stored["acknowledged"] is True and "ack_deadline" not in stored and not stored.get("_outbox")

        again = await svc.http.post(f"/requests/{request_id}/accept", headers=ana)
        assert again.status_code == 200 and again.json()["acknowledged"] is True
        # The barrier: a later event from dispatch (one publisher, in order) has arrived.
        later = unique("req_later")
        await svc.bus.send(submitted(later, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == later)
        assert len(svc.events("RequestAcknowledged", request_id)) == 1
        assert not svc.events("RequestAcknowledged", later)  # assigned, not acknowledged
        assert (await svc.db["requests"].find_one({"_id": request_id}))["rev"] == stored["rev"]

        # Acknowledged on a replica that did not make the assignment (it reads the request).
        svc.handlers.inbox.requests._awaiting_ack.clear()
        ack = await svc.http.post(f"/requests/{later}/accept", headers=ana)
        assert ack.status_code == 200 and ack.json()["acknowledged"] is True
        event = await svc.wait("RequestAcknowledged", lambda d: d["request_id"] == later)
        assert (event["technician_id"], event["company_id"], event["assignment"]) == ("tec_ana", company, 1)


async def test_technician_going_unavailable_before_acknowledging_loses_the_request(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.technician_record("tec_ana", available=True)
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)
        await svc.bus.send(available("tec_bob", [company], 1))
        await svc.bus.send(unavailable("tec_ana", [company], 2))
        gone = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == request_id)
        assert gone["reason"] == "technician_unavailable"
        second = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id and d["assignment"] == 2)
        assert second["technician_id"] == "tec_bob"
        # A stale "available" (older sequence) must not bring Ana back.
        await svc.bus.send(available("tec_ana", [company], 1))
        # The barrier: a later event on the same queue (one consumer, in order) was absorbed.
        await svc.bus.send(available("tec_zed", [unique("cmp")], 1))
        await svc.technician_record("tec_zed", available=True)
        assert (await svc.db["technicians"].find_one({"_id": "tec_ana"}))["available"] is False


async def test_the_chat_opening_is_not_the_technicians_acknowledgement(dispatch_service):
    # chat-svc opens a session on every assignment, whether or not the technician is there:
    # only the technician's accept keeps a Queue assignment past the accept timeout.
    company = unique("cmp")
    async with dispatch_service(accept_timeout_seconds=1.0) as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.technician_record("tec_ana", available=True)
        request_id = unique("req")
        await svc.bus.send(submitted(request_id, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)
        await svc.bus.send(started(request_id, company, "tec_ana"))
        lapsed = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == request_id)
        assert lapsed["technician_ids"] == ["tec_ana"] and lapsed["reason"] == "expired"


async def test_cancellation_releases_everything(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1, capacity=1))
        await svc.technician_record("tec_ana", available=True)
        assigned, waiting, web = unique("req_assigned"), unique("req_waiting"), unique("req_web")
        await svc.bus.send(submitted(assigned, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == assigned)
        await svc.bus.send(submitted(waiting, company))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == waiting)

        # Cancelling the assigned request frees Ana, who gets the waiting one.
        await svc.bus.send(cancelled(assigned, company, "tec_ana"))
        withdrawn = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == assigned)
        assert withdrawn == {**withdrawn, "technician_ids": ["tec_ana"], "reason": "cancelled"}
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == waiting)

        # A queued request that is cancelled leaves the queue for good.
        third = unique("req_third")
        await svc.bus.send(submitted(third, company))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == third)
        await svc.bus.send(cancelled(third, company))
        # Cancelled, whether still live or already moved to the history by the sweeper.
        await eventually(lambda: _cancelled(svc, third), what=f"{third} cancelled")
        await svc.bus.send(ended(waiting, company, "tec_ana"))
        # The barrier: Ana's freed slot goes to a later request, which the cancelled one
        # would have had first had it stayed in the queue.
        fourth = unique("req_fourth")
        await svc.bus.send(submitted(fourth, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == fourth)
        assert not svc.events("RequestAssigned", third)
        await svc.bus.send(ended(fourth, company, "tec_ana"))
        await svc.technician_record("tec_ana", active=[])

        # An open Web offer is withdrawn from everyone it was made to.
        await svc.bus.send(submitted(web, company, mode="web", portal_type="smart_box"))
        await svc.wait("RequestOffered", lambda d: d["request_id"] == web)
        await svc.bus.send(cancelled(web, company))
        gone = await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == web)
        assert gone["technician_ids"] == ["tec_ana"] and gone["reason"] == "cancelled"
        # Filed by a sweep once each one's outbox is cleared (the clear follows the publication
        # the test waited for, so one tick may come a moment early on a loaded machine).
        await eventually(lambda: _all_filed(svc), what="every finished request filed")
        states = {d["_id"]: d["state"] async for d in svc.db["request_history"].find()}
        assert states == {
            assigned: "cancelled",
            waiting: "completed",
            third: "cancelled",
            fourth: "completed",
            web: "cancelled",
        }
        assert (await svc.db["technicians"].find_one({"_id": "tec_ana"}))["active"] == []
        closed = await svc.http.post(f"/requests/{web}/accept", headers=svc.technician("tec_ana", [company]))
        assert closed.status_code == 409 and closed.json()["error"] == "request_closed"


async def test_a_cancellation_that_overtakes_its_submission_still_wins(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1))
        request_id = unique("req")
        await svc.bus.send(cancelled(request_id, company))
        # The tombstone waits among the live requests (sweeps leave it there) for the
        # submission, whose first delivery does not look in the history.
        await eventually(lambda: svc.db["requests"].count_documents({"_id": request_id, "state": "cancelled"}))
        await svc.handlers.sweeper.tick()
        assert await svc.db["requests"].count_documents({"_id": request_id}) == 1
        await svc.bus.send(submitted(request_id, company))
        later = unique("req")
        await svc.bus.send(submitted(later, company))
        assigned = await svc.wait("RequestAssigned")
        assert assigned["request_id"] == later
        assert not svc.events("RequestAssigned", request_id) and not svc.events("RequestQueued", request_id)
        # Its submission came: a sweep files it.
        await eventually(lambda: _filed(svc, request_id), what="the tombstone filed")
        assert (await svc.db["request_history"].find_one({"_id": request_id}))["state"] == "cancelled"


async def _all_filed(svc) -> bool:
    await svc.handlers.sweeper.tick()
    return await svc.db["requests"].count_documents({}) == 0


async def _filed(svc, request_id: str) -> bool:
    await svc.handlers.sweeper.tick()
    return await svc.db["requests"].count_documents({"_id": request_id}) == 0


async def _cancelled(svc, request_id: str) -> bool:
    where = (svc.db["requests"], svc.db["request_history"])
    return any([await c.count_documents({"_id": request_id, "state": "cancelled"}) for c in where])
