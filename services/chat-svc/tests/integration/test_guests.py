"""A colleague invited into a chat: once dispatch says they joined, they may open the chat and
write in it (the transcript says who wrote what); everybody reads "Bob joined the chat." and
"Bob left the chat."; once they left, chat-svc's own record refuses them. A leave that
overtakes its join (they travel on different queues) is not undone by the late join."""

from datetime import UTC, datetime

import pytest

from contracts import Envelope, RequestColleagueJoined, RequestColleagueLeft
from testkit import eventually

pytestmark = pytest.mark.integration


def joined(request_id: str, sequence: int = 1, technician_id: str = "tec_bob") -> Envelope[RequestColleagueJoined]:
    data = RequestColleagueJoined(
        request_id=request_id,
        account_id="acc_chat",
        company_id="cmp_globex",
        technician_id=technician_id,
        name="Bob",
        invited_by="tec_ana",
        joined_at=datetime.now(UTC),
        sequence=sequence,
        technicians=2,
    )
    return Envelope[RequestColleagueJoined].of(data, producer="dispatch-svc", correlation_id=request_id)


def left(request_id: str, sequence: int = 2, technician_id: str = "tec_bob") -> Envelope[RequestColleagueLeft]:
    data = RequestColleagueLeft(
        request_id=request_id,
        account_id="acc_chat",
        company_id="cmp_globex",
        technician_id=technician_id,
        name="Bob",
        reason="left",
        sequence=sequence,
        technicians=1,
    )
    return Envelope[RequestColleagueLeft].of(data, producer="dispatch-svc", correlation_id=request_id)


async def test_a_guest_joins_writes_and_leaves_and_everybody_reads_it(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id, "tec_ana")
    bob_token = chat.technician("tec_bob", name="Bob")
    # Not a guest yet: refused, as any technician the chat is not assigned to.
    async with chat.connect(session_id, bob_token) as early:
        _, code, _ = await chat.closed(early)
        assert code == 1008

    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        async with chat.connect(session_id, chat.technician("tec_ana")) as ana:
            await chat.frame_of(ana, "message", author="system")  # Ana joined
            await chat.publish(joined(request_id))
            await chat.publish(joined(request_id))  # a redelivery changes nothing
            await chat.frame_of(customer, "message", author="system", text="Bob joined the chat.")
            await chat.frame_of(ana, "message", author="system", text="Bob joined the chat.")
            listed = await chat.frame_of(customer, "session", technician_id="tec_ana")
            assert listed["guests"] == [{"technician_id": "tec_bob", "name": "Bob"}]

            async with chat.connect(session_id, bob_token) as bob:
                await chat.frame_of(bob, "session", technician_id="tec_ana")
                await bob.send('{"type": "message", "text": "Bob here, I know this printer"}')
                said = await chat.frame_of(
                    customer, "message", author="technician", text="Bob here, I know this printer"
                )
                assert said["author_name"] == "Bob"
                await chat.frame_of(ana, "message", author="technician", author_name="Bob")
                # A guest does not end the chat: it stays its technician's.
                await bob.send('{"type": "end", "outcome": "resolved"}')
                refusal = await chat.frame_of(bob, "error")
                assert refusal["code"] == "not_your_session" and "leave" in refusal["message"]

                await chat.publish(left(request_id))
                frames, code, reason = await chat.closed(bob)
                assert code == 1008 and reason == "you left this chat"
                assert "Bob left the chat." in [f["text"] for f in frames if f["type"] == "message"]
            await chat.frame_of(customer, "message", author="system", text="Bob left the chat.")

            # Chat-svc's own record now refuses him; a late copy of his join does not let him back.
            await chat.publish(joined(request_id, sequence=1))
            await joins_consumed(chat)
            async with chat.connect(session_id, bob_token) as again:
                _, code, _ = await chat.closed(again)
                assert code == 1008
            await ana.send('{"type": "message", "text": "Ana again"}')
            await chat.frame_of(customer, "message", author="technician", text="Ana again")

    detail = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))).json()
    assert detail["session"]["technician_id"] == "tec_ana"
    lines = [(m["author"], m["author_name"], m["text"]) for m in detail["messages"]]
    assert [text for _, _, text in lines].count("Bob joined the chat.") == 1
    assert ("technician", "Bob", "Bob here, I know this printer") in lines
    assert lines.index(("system", "", "Bob joined the chat.")) < lines.index(("system", "", "Bob left the chat."))
    transcript = await chat.http.get(f"/sessions/{session_id}/transcript", headers=chat.auth(chat.admin()))
    assert "--: Bob left the chat." in transcript.text
    assert "--: Bob joined the chat." in transcript.text and "Technician (Bob): Bob here, I know this printer" in (
        transcript.text
    )


async def joins_consumed(chat) -> None:
    """Returns once chat-svc consumed every join published before (one queue, in order): a
    join of a fresh chat behind them has been applied."""
    request_id = chat.new_request()
    await chat.open(request_id, "tec_ana")
    await chat.publish(joined(request_id, technician_id="tec_zoe"))
    sessions = chat.service.runtime.db["sessions"]
    await eventually(
        lambda: sessions.find_one({"_id": chat.session_of(request_id), "guests.tec_zoe": {"$exists": True}}),
        what="the barrier's join applied",
    )


async def test_a_leave_that_overtakes_its_join_wins(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id, "tec_ana")
    sessions = chat.service.runtime.db["sessions"]
    await chat.publish(left(request_id, sequence=2))
    await eventually(lambda: sessions.find_one({"_id": session_id, "guest_seq.tec_bob": 2}), what="the leave applied")
    await chat.publish(joined(request_id, sequence=1))
    await joins_consumed(chat)
    async with chat.connect(session_id, chat.technician("tec_bob", name="Bob")) as bob:
        _, code, _ = await chat.closed(bob)
        assert code == 1008
    # Invited again later (a newer join): he is in.
    await chat.publish(joined(request_id, sequence=3))
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        await chat.frame_of(customer, "message", author="system", text="Bob joined the chat.")
    async with chat.connect(session_id, chat.technician("tec_bob", name="Bob")) as bob:
        await chat.frame_of(bob, "session", technician_id="tec_ana")
    detail = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))).json()
    texts = [m["text"] for m in detail["messages"]]
    # The overtaking leave found him not in the chat: no line; the late join none either.
    assert texts.count("Bob joined the chat.") == 1 and "Bob left the chat." not in texts
