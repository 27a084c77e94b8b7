"""Inviting a colleague to join a chat: invite with a note, accept (the colleague's slot claimed
exactly once; the chat stays its technician's), the most technicians per chat, leaving, the end
of the chat letting every guest go (and dropping what was pending), lapses."""

import asyncio

import pytest

from testkit import eventually

from ..support import ended, unique
from .handover import chat_of_ana, colleague

pytestmark = pytest.mark.integration


async def invite(svc, request_id: str, by: dict, to: str, note: str = ""):
    return await svc.http.post(
        f"/requests/{request_id}/invite", json={"to_technician_id": to, "note": note}, headers=by
    )


async def test_an_accepted_invitation_gives_the_colleague_a_slot_and_a_place_in_the_chat(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company)
        await colleague(svc, "tec_ben", company, capacity=3)
        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])

        sent = await invite(svc, request_id, ana, "tec_ben", "  Knows the VPN client ")
        assert sent.status_code == 200, sent.text
        assert (sent.json()["note"], sent.json()["to_name"]) == ("Knows the VPN client", "Tec_Ben")
        event = await svc.wait("RequestColleagueInvited", lambda d: d["request_id"] == request_id)
        assert (event["from_technician_id"], event["to_technician_id"], event["note"], event["assignment"]) == (
            "tec_ana",
            "tec_ben",
            "Knows the VPN client",
            1,
        )
        open_to_ben = (await svc.http.get("/transfers", headers=ben)).json()
        assert open_to_ben["transfers"] == []
        assert [(i["request_id"], i["session_id"], i["from_name"]) for i in open_to_ben["invitations"]] == [
            (request_id, f"cht_{request_id}", "Tec_Ana")
        ]

        # A double click (four, even): one slot claimed, one join.
        responses = await asyncio.gather(
            *(svc.http.post(f"/requests/{request_id}/invite/accept", headers=ben) for _ in range(4))
        )
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        assert all(r.json()["guest"] for r in responses)
        joined = await svc.wait("RequestColleagueJoined", lambda d: d["request_id"] == request_id)
        assert (joined["technician_id"], joined["name"], joined["invited_by"], joined["sequence"]) == (
            "tec_ben",
            "Tec_Ben",
            "tec_ana",
            1,
        )
        assert joined["technicians"] == 2
        # Past `stuck_after` (1 s here) the sweeper's slot repairs look at Ben's slot: a guest's
        # slot is legitimately held, nothing is freed.
        await asyncio.sleep(1.5)
        await svc.handlers.sweeper.tick()
        assert len(svc.events("RequestColleagueJoined", request_id)) == 1
        assert (await svc.technician_record("tec_ben"))["active"] == [request_id]
        assert (await svc.technician_record("tec_ana"))["active"] == [request_id]
        stored = await svc.db["requests"].find_one({"_id": request_id})
        assert (stored["technician_id"], stored["assignment"], "invitation" in stored) == ("tec_ana", 1, False)

        # Both list the chat; Ben as a guest, Ana with her guest.
        bens = (await svc.http.get("/requests", headers=ben)).json()["requests"]
        assert [(r["request_id"], r["guest"]) for r in bens] == [(request_id, True)]
        anas = (await svc.http.get("/requests", headers=ana)).json()["requests"]
        assert [(r["guest"], r["guests"]) for r in anas] == [(False, [{"technician_id": "tec_ben", "name": "Tec_Ben"}])]
        assert (await svc.http.get("/transfers", headers=ben)).json() == {"transfers": [], "invitations": []}
        # Ben is in the chat: neither invited nor offered it again, nor listed as a colleague for it.
        again = await invite(svc, request_id, ana, "tec_ben")
        assert (again.status_code, again.json()["error"]) == (409, "already_in_chat")
        to_guest = await svc.http.post(
            f"/requests/{request_id}/transfer", json={"to_technician_id": "tec_ben"}, headers=ana
        )
        assert (to_guest.status_code, to_guest.json()["error"]) == (409, "already_in_chat")
        listed = (await svc.http.get(f"/requests/{request_id}/colleagues", headers=ana)).json()
        assert listed == {"colleagues": []}
        back = await svc.http.post(f"/requests/{request_id}/return", json={}, headers=ana)
        assert (back.status_code, back.json()["error"]) == (409, "colleagues_in_chat")

        # Ben leaves: his slot is freed, he is no longer listed; leaving twice is refused.
        left = await svc.http.post(f"/requests/{request_id}/leave", headers=ben)
        assert left.status_code == 200, left.text
        gone = await svc.wait("RequestColleagueLeft", lambda d: d["request_id"] == request_id)
        assert (gone["technician_id"], gone["reason"], gone["sequence"], gone["technicians"]) == (
            "tec_ben",
            "left",
            2,
            1,
        )
        await svc.technician_record("tec_ben", active=[])
        assert (await svc.technician_record("tec_ana"))["active"] == [request_id]
        assert (await svc.http.get("/requests", headers=ben)).json()["requests"] == []
        twice = await svc.http.post(f"/requests/{request_id}/leave", headers=ben)
        assert (twice.status_code, twice.json()["error"]) == (409, "not_in_chat")
        owner = await svc.http.post(f"/requests/{request_id}/leave", headers=ana)
        assert (owner.status_code, owner.json()["error"]) == (409, "not_in_chat")


async def test_the_most_technicians_per_chat_and_the_other_refusals(dispatch_service):
    company, other = unique("cmp"), unique("cmp")
    async with dispatch_service(max_technicians_per_chat=2) as svc:
        request_id = await chat_of_ana(svc, company)
        await colleague(svc, "tec_ben", company)
        await colleague(svc, "tec_cy", company)
        await colleague(svc, "tec_dan", other)
        ana, ben, cy = (svc.technician(t, [company]) for t in ("tec_ana", "tec_ben", "tec_cy"))

        cases = [
            (ben, "tec_cy", "not_your_chat", "only the technician of this chat can invite a colleague to it"),
            (ana, "tec_ana", "already_in_chat", "Tec_Ana is already in this chat"),
            (ana, "tec_dan", "not_a_colleague", "that technician does not serve this request's company"),
            (ana, "tec_nobody", "not_a_colleague", "that technician does not serve this request's company"),
        ]
        for by, to, code, message in cases:
            response = await invite(svc, request_id, by, to)
            assert (response.status_code, response.json()) == (409, {"error": code, "message": message}), to
        too_long = await invite(svc, request_id, ana, "tec_ben", "x" * 501)
        assert too_long.status_code == 422

        assert (await invite(svc, request_id, ana, "tec_ben")).status_code == 200
        pending = await invite(svc, request_id, ana, "tec_cy")
        assert (pending.status_code, pending.json()["error"]) == (409, "invitation_pending")
        transfer = await svc.http.post(
            f"/requests/{request_id}/transfer", json={"to_technician_id": "tec_cy"}, headers=ana
        )
        assert (transfer.status_code, transfer.json()["error"]) == (409, "invitation_pending")
        stranger = await svc.http.post(f"/requests/{request_id}/invite/accept", headers=cy)
        assert (stranger.status_code, stranger.json()["error"]) == (409, "no_invitation")
        foreign = await svc.http.post(
            f"/requests/{request_id}/invite/accept", headers=svc.technician("tec_dan", [other])
        )
        assert (foreign.status_code, foreign.json()["error"]) == (403, "company_forbidden")
        missing = await svc.http.post(f"/requests/{unique('req')}/invite/accept", headers=ben)
        assert (missing.status_code, missing.json()["error"]) == (404, "request_not_found")
        assert (await svc.http.post(f"/requests/{request_id}/invite/accept", headers=ben)).status_code == 200

        # Two technicians are the most this service allows per chat.
        full = await invite(svc, request_id, ana, "tec_cy")
        assert (full.status_code, full.json()) == (
            409,
            {"error": "chat_full", "message": "this chat already has 2 technicians, the most one chat can have"},
        )
        assert (await svc.technician_record("tec_cy"))["active"] == []


async def test_the_end_of_the_chat_lets_every_guest_go_and_drops_what_was_pending(dispatch_service):
    company = unique("cmp")
    # Room for a third guest, so the last invitation is still pending when the chat ends.
    async with dispatch_service(max_technicians_per_chat=4) as svc:
        request_id = await chat_of_ana(svc, company)
        for name in ("tec_ben", "tec_cy", "tec_dan"):
            await colleague(svc, name, company, capacity=2)
        ana = svc.technician("tec_ana", [company])
        for name in ("tec_ben", "tec_cy"):
            assert (await invite(svc, request_id, ana, name)).status_code == 200
            accepted = await svc.http.post(
                f"/requests/{request_id}/invite/accept", headers=svc.technician(name, [company])
            )
            assert accepted.status_code == 200, accepted.text
        assert (await invite(svc, request_id, ana, "tec_dan")).status_code == 200  # still pending at the end
        await svc.technician_record("tec_cy", active=[request_id])

        await svc.bus.send(ended(request_id, company, "tec_ana"))
        lapse = await svc.wait("RequestInvitationLapsed", lambda d: d["request_id"] == request_id)
        assert (lapse["to_technician_id"], lapse["reason"]) == ("tec_dan", "chat_ended")
        await eventually(lambda: _left(svc, request_id, 2), what="both guests let go")
        assert {(d["technician_id"], d["reason"]) for d in svc.events("RequestColleagueLeft", request_id)} == {
            ("tec_ben", "chat_ended"),
            ("tec_cy", "chat_ended"),
        }
        for name in ("tec_ana", "tec_ben", "tec_cy", "tec_dan"):
            await svc.technician_record(name, active=[])
        # A redelivered end changes nothing more; the request is archived once settled.
        await svc.bus.send(ended(request_id, company, "tec_ana"))
        await eventually(lambda: svc.db["request_history"].find_one({"_id": request_id}), what="archived")
        archived = await svc.db["request_history"].find_one({"_id": request_id})
        assert archived["guests"] == [] and len(archived["former_guests"]) == 2 and "invitation" not in archived
        assert len(svc.events("RequestColleagueLeft", request_id)) == 2


async def test_a_transfer_still_pending_when_the_chat_ends_is_withdrawn(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        request_id = await chat_of_ana(svc, company)
        await colleague(svc, "tec_ben", company)
        ana = svc.technician("tec_ana", [company])
        offered = await svc.http.post(
            f"/requests/{request_id}/transfer", json={"to_technician_id": "tec_ben"}, headers=ana
        )
        assert offered.status_code == 200
        await svc.bus.send(ended(request_id, company, "tec_ana"))
        lapse = await svc.wait("RequestTransferLapsed", lambda d: d["request_id"] == request_id)
        assert (lapse["to_technician_id"], lapse["reason"]) == ("tec_ben", "chat_ended")
        await svc.technician_record("tec_ana", active=[])
        late = await svc.http.post(
            f"/requests/{request_id}/transfer/accept", headers=svc.technician("tec_ben", [company])
        )
        assert late.status_code == 409
        assert (await svc.technician_record("tec_ben"))["active"] == []


async def test_declined_and_unanswered_invitations_lapse(dispatch_service):
    company = unique("cmp")
    async with dispatch_service(transfer_timeout_seconds=1.0) as svc:
        request_id = await chat_of_ana(svc, company)
        await colleague(svc, "tec_ben", company)
        ana, ben = svc.technician("tec_ana", [company]), svc.technician("tec_ben", [company])

        assert (await invite(svc, request_id, ana, "tec_ben", "please")).status_code == 200
        declined = await svc.http.post(f"/requests/{request_id}/invite/decline", headers=ben)
        assert declined.status_code == 200, declined.text
        lapse = await svc.wait("RequestInvitationLapsed", lambda d: d["request_id"] == request_id)
        assert (lapse["reason"], lapse["from_technician_id"], lapse["to_technician_id"]) == (
            "declined",
            "tec_ana",
            "tec_ben",
        )
        twice = await svc.http.post(f"/requests/{request_id}/invite/decline", headers=ben)
        assert (twice.status_code, twice.json()["error"]) == (409, "no_invitation")

        assert (await invite(svc, request_id, ana, "tec_ben")).status_code == 200
        await svc.wait("RequestInvitationLapsed", lambda d: d["request_id"] == request_id and d["reason"] == "expired")
        late = await svc.http.post(f"/requests/{request_id}/invite/accept", headers=ben)
        assert (late.status_code, late.json()["error"]) == (409, "no_invitation")
        stored = await eventually(
            lambda: svc.db["requests"].find_one({"_id": request_id, "invitation": {"$exists": False}}), what="dropped"
        )
        assert stored.get("guests", []) == []
        assert (await svc.technician_record("tec_ben"))["active"] == []
        assert not svc.events("RequestColleagueJoined", request_id)


async def _left(svc, request_id: str, count: int) -> bool:
    return len(svc.events("RequestColleagueLeft", request_id)) == count
