"""Transfer to a colleague: offer with a note, accept (slots moved exactly once), decline,
lapse, and every refusal as a plain sentence."""

import asyncio

import pytest

from testkit import eventually

from ..support import available, submitted, unavailable, unique
from .handover import chat_of_ana, colleague

pytestmark = pytest.mark.integration


async def test_accepted_transfer_moves_the_chat_and_both_slots(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company)
        # Ben already has a chat (capacity 2): the transfer takes his second slot.
        await colleague(svc, "tec_ben", company, capacity=2)
        waiting_id = unique("req")
        await svc.bus.send(submitted(waiting_id, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == waiting_id and d["technician_id"] == "tec_ben")

        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])
        listed = (await svc.http.get(f"/requests/{request_id}/colleagues", headers=ana)).json()
        assert listed == {"colleagues": [{"technician_id": "tec_ben", "display_name": "Tec_Ben", "free_slots": 1}]}

        offered = await svc.http.post(
            f"/requests/{request_id}/transfer",
            json={"to_technician_id": "tec_ben", "note": "  Printer model X2 "},
            headers=ana,
        )
        assert offered.status_code == 200, offered.text
        assert offered.json()["note"] == "Printer model X2"
        event = await svc.wait("RequestTransferOffered", lambda d: d["request_id"] == request_id)
        assert (event["from_technician_id"], event["to_technician_id"], event["note"]) == (
            "tec_ana",
            "tec_ben",
            "Printer model X2",
        )
        assert event["assignment"] == 1 and event["from_name"] == "Tec_Ana"
        incoming = (await svc.http.get("/transfers", headers=ben)).json()["transfers"]
        assert [(t["request_id"], t["session_id"], t["note"]) for t in incoming] == [
            (request_id, f"cht_{request_id}", "Printer model X2")
        ]

        accepted = await svc.http.post(f"/requests/{request_id}/transfer/accept", headers=ben)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "assigned"
        moved = await svc.wait("RequestTransferred", lambda d: d["request_id"] == request_id)
        assert (moved["from_technician_id"], moved["to_technician_id"], moved["assignment"]) == (
            "tec_ana",
            "tec_ben",
            2,
        )
        assert (moved["from_name"], moved["to_name"], moved["note"]) == ("Tec_Ana", "Tec_Ben", "Printer model X2")

        stored = await svc.db["requests"].find_one({"_id": request_id})
        assert (stored["technician_id"], stored["assignment"], "transfer" in stored) == ("tec_ben", 2, False)
        ben_record = await svc.technician_record("tec_ben")
        assert sorted(ben_record["active"]) == sorted([request_id, waiting_id])
        await svc.technician_record("tec_ana", active=[])
        assert (await svc.http.get("/transfers", headers=ben)).json() == {"transfers": [], "invitations": []}
        # The chat is Ben's now: Ana cannot act on it any more.
        again = await svc.http.post(
            f"/requests/{request_id}/transfer", json={"to_technician_id": "tec_ben"}, headers=ana
        )
        assert again.status_code == 409 and again.json()["error"] == "not_your_chat"


async def test_a_double_click_on_accept_claims_one_slot_and_transfers_once(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company)
        await colleague(svc, "tec_ben", company, capacity=3)
        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])
        offered = await svc.http.post(
            f"/requests/{request_id}/transfer", json={"to_technician_id": "tec_ben"}, headers=ana
        )
        assert offered.status_code == 200, offered.text

        responses = await asyncio.gather(
            *(svc.http.post(f"/requests/{request_id}/transfer/accept", headers=ben) for _ in range(4))
        )
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        await svc.wait("RequestTransferred", lambda d: d["request_id"] == request_id)
        await svc.handlers.sweeper.tick()  # the barrier: nothing later moves it again
        assert len(svc.events("RequestTransferred", request_id)) == 1
        assert (await svc.technician_record("tec_ben"))["active"] == [request_id]
        assert (await svc.technician_record("tec_ana"))["active"] == []


async def test_refusals_are_plain_sentences(dispatch_service):
    company, other = unique("cmp"), unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company)
        # Cy is full: the next request goes to her (Ana is full too).
        await colleague(svc, "tec_cy", company)
        busy = unique("req")
        await svc.bus.send(submitted(busy, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == busy and d["technician_id"] == "tec_cy")
        await svc.technician_record("tec_cy", active=[busy])
        await colleague(svc, "tec_ben", company)
        await colleague(svc, "tec_dan", other)
        await svc.bus.send(available("tec_eve", [company], 1))
        await svc.technician_record("tec_eve", available=True)
        await svc.bus.send(unavailable("tec_eve", [company], 2))
        await svc.technician_record("tec_eve", available=False)
        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])

        async def offer(by, to, note=""):
            return await svc.http.post(
                f"/requests/{request_id}/transfer", json={"to_technician_id": to, "note": note}, headers=by
            )

        cases = [
            (ben, "tec_cy", 409, "not_your_chat", "only the technician of this chat can transfer it"),
            (ana, "tec_ana", 409, "transfer_to_yourself", "this chat is already yours; pick a colleague"),
            (ana, "tec_dan", 409, "not_a_colleague", "that technician does not serve this request's company"),
            (ana, "tec_nobody", 409, "not_a_colleague", "that technician does not serve this request's company"),
            (ana, "tec_eve", 409, "colleague_unavailable", "Tec_Eve is not available for chat requests right now"),
            (ana, "tec_cy", 409, "colleague_full", "Tec_Cy already has as many chats as their capacity allows"),
        ]
        for by, to, status, code, message in cases:
            response = await offer(by, to)
            assert (response.status_code, response.json()) == (status, {"error": code, "message": message}), to
        too_long = await offer(ana, "tec_ben", "x" * 501)
        assert too_long.status_code == 422 and isinstance(too_long.json()["message"], str)

        assert (await offer(ana, "tec_ben", "over to you")).status_code == 200
        pending = await offer(ana, "tec_ben")
        assert (pending.status_code, pending.json()["error"]) == (409, "transfer_pending")
        assert "Tec_Ben" in pending.json()["message"]
        stranger = await svc.http.post(
            f"/requests/{request_id}/transfer/accept", headers=svc.technician("tec_cy", [company])
        )
        assert (stranger.status_code, stranger.json()["error"]) == (409, "no_transfer")
        foreign = await svc.http.post(
            f"/requests/{request_id}/transfer/accept", headers=svc.technician("tec_dan", [other])
        )
        assert (foreign.status_code, foreign.json()["error"]) == (403, "company_forbidden")
        missing = await svc.http.post(f"/requests/{unique('req')}/transfer/accept", headers=ben)
        assert missing.status_code == 404 and missing.json()["error"] == "request_not_found"
        assert (await svc.technician_record("tec_ana"))["active"] == [request_id]


async def test_declined_then_lapsed_transfers_leave_the_chat_where_it_was(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(transfer_timeout_seconds=1.0) as svc:
        request_id = await chat_of_ana(svc, company)
        await colleague(svc, "tec_ben", company)
        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])
        transfer = {"to_technician_id": "tec_ben", "note": "please"}

        assert (await svc.http.post(f"/requests/{request_id}/transfer", json=transfer, headers=ana)).status_code == 200
        declined = await svc.http.post(f"/requests/{request_id}/transfer/decline", headers=ben)
        assert declined.status_code == 200, declined.text
        lapse = await svc.wait("RequestTransferLapsed", lambda d: d["request_id"] == request_id)
        assert (lapse["reason"], lapse["from_technician_id"], lapse["to_technician_id"]) == (
            "declined",
            "tec_ana",
            "tec_ben",
        )
        twice = await svc.http.post(f"/requests/{request_id}/transfer/decline", headers=ben)
        assert (twice.status_code, twice.json()["error"]) == (409, "no_transfer")

        assert (await svc.http.post(f"/requests/{request_id}/transfer", json=transfer, headers=ana)).status_code == 200
        expired = await svc.wait(
            "RequestTransferLapsed", lambda d: d["request_id"] == request_id and d["reason"] == "expired"
        )
        assert expired["to_technician_id"] == "tec_ben"
        late = await svc.http.post(f"/requests/{request_id}/transfer/accept", headers=ben)
        assert (late.status_code, late.json()["error"]) == (409, "no_transfer")

        stored = await eventually(
            lambda: svc.db["requests"].find_one({"_id": request_id, "transfer": {"$exists": False}}), what="dropped"
        )
        assert (stored["technician_id"], stored["assignment"]) == ("tec_ana", 1)
        assert (await svc.technician_record("tec_ana"))["active"] == [request_id]
        assert (await svc.technician_record("tec_ben"))["active"] == []
        assert not svc.events("RequestTransferred", request_id)
