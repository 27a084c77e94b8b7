"""Two chat-svc replicas on one database and vhost: whichever replica holds a socket, it sees
every frame of its session in order; limits and revocations hold across both."""

import json
from datetime import timedelta

import pytest

from testkit import eventually

pytestmark = pytest.mark.integration

COMPANY = "cmp_globex"
OTHER = "cmp_initech"


async def test_customer_on_one_replica_and_technician_on_the_other_chat_in_order(replicas):
    a, b = replicas
    request_id = a.new_request()
    session_id = await a.open(request_id)
    async with a.connect(session_id, a.customer(request_id)) as customer:
        assert (await a.frame(customer))["you"] == "customer"
        async with b.connect(session_id, b.technician()) as technician:
            joined = await a.frame_of(customer, "message")
            assert (joined["author"], joined["text"]) == ("system", "Ana (technician) has joined the chat.")

            # Typing indicators cross the replicas, and never come back to their author.
            await customer.send('{"type": "typing"}')
            assert await b.frame_of(technician, "typing") == {"type": "typing", "author": "customer"}
            await technician.send('{"type": "typing"}')
            assert await a.frame_of(customer, "typing") == {"type": "typing", "author": "technician"}

            for n in range(8):
                await customer.send(json.dumps({"type": "message", "text": f"customer {n}"}))
                await technician.send(json.dumps({"type": "message", "text": f"technician {n}"}))
            seen_by_customer = await a.messages(customer, 16)
            # (the technician's own join notice went by while waiting for the typing frame)
            seen_by_technician = await b.messages(technician, 16)

            # Both sides see the same messages, each exactly once, in one order.
            assert seen_by_customer == seen_by_technician
            seqs = [m["seq"] for m in seen_by_customer]
            assert seqs == list(range(joined["seq"] + 1, joined["seq"] + 17))
            for author in ("customer", "technician"):
                texts = [m["text"] for m in seen_by_customer if m["author"] == author]
                assert texts == [f"{author} {n}" for n in range(8)]

            # The end, asked on the technician's replica, closes both sockets.
            await technician.send(json.dumps({"type": "end", "outcome": "resolved", "notes": "fixed"}))
            technician_frames, technician_code, _ = await b.closed(technician)
        customer_frames, customer_code, reason = await a.closed(customer)
    assert technician_code == customer_code == 1000 and reason == "session ended"
    for frames in (customer_frames, technician_frames):
        notice = [f for f in frames if f["type"] == "message"][-1]
        assert notice["text"] == "The technician ended the chat." and notice["seq"] == seqs[-1] + 1
        assert {"type": "session", "state": "completed", "outcome": "resolved"}.items() <= frames[-1].items()
    ended = await a.ended(request_id)
    assert ended["data"]["ended_by"] == "technician"
    assert len(a.events("ChatSessionEnded", request_id)) == 1

    # Either replica reads the whole, stored conversation.
    for replica in replicas:
        detail = (await replica.http.get(f"/sessions/{session_id}", headers=replica.auth(replica.admin()))).json()
        assert [m["seq"] for m in detail["messages"]] == list(range(1, seqs[-1] + 2))


async def test_a_client_resuming_on_the_other_replica_gets_exactly_what_it_missed(replicas):
    a, b = replicas
    request_id = a.new_request()
    session_id = await a.open(request_id)
    async with b.connect(session_id, b.technician()) as technician:
        await b.frame_of(technician, "message", author="system")
        async with a.connect(session_id, a.customer(request_id)) as customer:
            await customer.send('{"type": "message", "text": "before"}')
            last_seen = await a.frame_of(customer, "message", text="before")
        for n in range(3):
            await technician.send(json.dumps({"type": "message", "text": f"while away {n}"}))
        await b.messages(technician, 4)  # "before" and the three
        async with b.connect(session_id, b.customer(request_id), after=last_seen["id"]) as customer:
            assert (await b.frame(customer))["type"] == "session"
            missed = await b.messages(customer, 3)
            assert [m["text"] for m in missed] == [f"while away {n}" for n in range(3)]
            await customer.send('{"type": "message", "text": "back"}')
            before = await b.until(customer, "message", text="back")
            assert not [f for f in before[:-1] if f["type"] == "message"]  # no duplicates


async def test_the_socket_limit_of_a_token_holds_across_replicas(replicas):
    a, b = replicas
    request_id = a.new_request()
    session_id = await a.open(request_id)
    token = a.customer(request_id)
    async with a.connect(session_id, token) as one, a.connect(session_id, token) as two:
        async with b.connect(session_id, token) as three:
            for ws in (one, two, three):
                assert (await a.frame(ws))["type"] == "session"
            for replica in (a, b):
                async with replica.connect(session_id, token) as fourth:
                    frames, code, reason = await replica.closed(fourth)
                assert frames[0]["code"] == "too_many_sockets"
                assert code == 1008 and reason.startswith("too_many_sockets")

        # Closing the one on B frees a place, taken on A.
        async def admitted() -> bool:
            async with a.connect(session_id, token) as again:
                return (await a.frame(again))["type"] == "session"

        assert await eventually(admitted, timeout=10, what="a socket admitted after one closed on the other replica")


async def test_a_revocation_closes_the_technicians_sockets_on_every_replica(replicas):
    a, b = replicas
    await a.grant("tec_vera", [COMPANY, OTHER])
    token = a.technician("tec_vera", companies=[COMPANY, OTHER], name="Vera")
    on_a = await a.open(a.new_request(), "tec_vera")
    on_b = await a.open(a.new_request(), "tec_vera")
    kept = await a.open(a.new_request(), "tec_vera", company_id=OTHER)
    async with a.connect(on_a, token) as vera_a, b.connect(on_b, token) as vera_b, b.connect(kept, token) as vera_kept:
        for ws in (vera_a, vera_b, vera_kept):
            await a.frame_of(ws, "message", author="system")

        # One replica consumes the update; both must act on it.
        await a.grant("tec_vera", [OTHER])
        for ws in (vera_a, vera_b):
            _frames, code, reason = await a.closed(ws)
            assert (code, reason) == (4403, "access revoked")
        await vera_kept.send(json.dumps({"type": "message", "text": "still here"}))
        assert (await b.frame_of(vera_kept, "message", author="technician"))["text"] == "still here"

    # Refused on both replicas from now on.
    for replica in (a, b):
        async with replica.connect(on_a, token) as again:
            frames, code, _ = await replica.closed(again)
        assert code == 1008 and frames[-1]["code"] == "not_your_session"


async def test_a_customer_still_connected_on_the_other_replica_has_not_left(replicas):
    a, b = replicas
    request_id = a.new_request()
    session_id = await a.open(request_id)
    token = a.customer(request_id)
    lifecycle = a.service.handlers.lifecycle
    sessions = lifecycle.sessions

    async def customer_sockets(count: int) -> None:
        async def counted() -> bool:
            document = await sessions.collection.find_one({"_id": session_id})
            return sum((document or {}).get("customers", {}).values()) == count

        await eventually(counted, timeout=10, what=f"{count} customer socket(s) counted")

    lifecycle.abandon_after = timedelta(0)  # any absence at all would end the chat
    try:
        async with b.connect(session_id, token) as on_b:
            async with a.connect(session_id, token) as on_a:
                await a.frame(on_a)
                await b.frame(on_b)
            await customer_sockets(1)  # A's is released
            for _ in range(2):  # a first check would mark the customer away, a second end the chat
                await lifecycle.abandon_due()
                assert (await sessions.get(session_id)).is_active
        await customer_sockets(0)
        await lifecycle.abandon_due()  # away from now on
        assert await lifecycle.abandon_due() >= 1
        assert not (await sessions.get(session_id)).is_active
    finally:
        lifecycle.abandon_after = timedelta(seconds=120)
    assert (await a.ended(request_id))["data"]["ended_by"] == "abandoned"
