"""Back to the company: the chat's technician sends the request back (Queue: the head of the
line, Web: offered to the others), their slot is freed, the next technician sees the note;
a chat that ends in between takes its request with it."""

import pytest

from contracts import ChatSessionEnded
from testkit import eventually

from ..support import ACCOUNT, envelope, unique
from .handover import chat_of_ana, colleague

pytestmark = pytest.mark.integration


async def test_queue_mode_goes_to_the_next_technician_with_the_note(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company, "queue")
        await colleague(svc, "tec_ben", company)
        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])

        sent = await svc.http.post(
            f"/requests/{request_id}/return", json={"note": " Needs a network admin "}, headers=ana
        )
        assert sent.status_code == 200, sent.text
        returned = await svc.wait("RequestReturnedToQueue", lambda d: d["request_id"] == request_id)
        assert (returned["from_technician_id"], returned["note"], returned["assignment"], returned["mode"]) == (
            "tec_ana",
            "Needs a network admin",
            1,
            "queue",
        )
        assert (await svc.wait("RequestQueued", lambda d: d["request_id"] == request_id))["position"] == 1
        # Ana is passed over: Ben, next in line, gets it as a new assignment.
        again = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id and d["assignment"] == 2)
        assert again["technician_id"] == "tec_ben" and again["alert"] is True
        await svc.technician_record("tec_ana", active=[])
        await svc.technician_record("tec_ben", active=[request_id])
        listed = (await svc.http.get("/requests", headers=ben)).json()["requests"]
        assert [(r["request_id"], r["handover_note"]) for r in listed] == [(request_id, "Needs a network admin")]
        assert (await svc.http.post(f"/requests/{request_id}/accept", headers=ben)).status_code == 200

        gone = await svc.http.post(f"/requests/{request_id}/return", json={}, headers=ana)
        assert (gone.status_code, gone.json()["error"]) == (409, "not_your_chat")


async def test_web_mode_is_offered_to_the_other_technicians(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company, "web")
        await colleague(svc, "tec_ben", company)
        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])
        # A transfer waiting for an answer must be settled first.
        offered = await svc.http.post(
            f"/requests/{request_id}/transfer", json={"to_technician_id": "tec_ben"}, headers=ana
        )
        assert offered.status_code == 200
        blocked = await svc.http.post(f"/requests/{request_id}/return", json={}, headers=ana)
        assert (blocked.status_code, blocked.json()["error"]) == (409, "transfer_pending")
        assert (await svc.http.post(f"/requests/{request_id}/transfer/decline", headers=ben)).status_code == 200

        assert (await svc.http.post(f"/requests/{request_id}/return", json={}, headers=ana)).status_code == 200
        offer = await svc.wait(
            "RequestOffered", lambda d: d["request_id"] == request_id and d["technician_ids"] == ["tec_ben"]
        )
        assert offer["customer_name"] == f"Customer {request_id}"
        await svc.technician_record("tec_ana", active=[])
        taken = await svc.http.post(f"/requests/{request_id}/accept", headers=ben)
        assert taken.status_code == 200, taken.text
        again = await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id and d["assignment"] == 2)
        assert again["technician_id"] == "tec_ben"
        await svc.technician_record("tec_ben", active=[request_id])


async def test_a_chat_that_ends_between_technicians_ends_its_request(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company, "web")
        ana = svc.technician("tec_ana", [company])
        assert (await svc.http.post(f"/requests/{request_id}/return", json={}, headers=ana)).status_code == 200
        await svc.wait("RequestReturnedToQueue", lambda d: d["request_id"] == request_id)
        # The customer leaves before anyone takes it: chat-svc ends the session under Ana.
        end = ChatSessionEnded(
            session_id=f"cht_{request_id}",
            request_id=request_id,
            account_id=ACCOUNT,
            company_id=company,
            technician_id="tec_ana",
            ended_by="customer",
            outcome="unknown",
        )
        await svc.bus.send(envelope(end, producer="chat-svc"))

        async def finished():
            found = await svc.db["requests"].find_one({"_id": request_id})
            found = found or await svc.db["request_history"].find_one({"_id": request_id})
            return found if found and found["state"] == "cancelled" else None

        await eventually(finished, timeout=15, what="the request ended with its chat")
        await svc.handlers.sweeper.tick()  # the barrier: nothing offers or assigns it again
        assert (await svc.technician_record("tec_ana"))["active"] == []
        assert not [a for a in svc.events("RequestAssigned", request_id) if a["assignment"] > 1]
