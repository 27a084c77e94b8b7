"""Flat with data: messages live in capped buckets with their session, and an ended session
leaves the live collections for the history (where it stays readable) until retention."""

import json
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.integration


async def test_messages_fill_capped_buckets_in_order_and_resume_across_them(small_buckets_chat):
    chat = small_buckets_chat
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    token = chat.customer(request_id)
    async with chat.connect(session_id, token) as customer:
        await chat.frame(customer)
        for n in range(7):
            await customer.send(json.dumps({"type": "message", "text": f"line {n}", "client_id": f"c{n}"}))
        sent = await chat.messages(customer, 7)
    assert [m["seq"] for m in sent] == list(range(1, 8))

    # Bucket 0 is the session document itself; the next ones are documents of their own.
    messages = chat.service.handlers.timeline.messages
    first = await messages.sessions.find_one({"_id": session_id})
    assert (len(first["messages"]), first["n"]) == (3, 3)
    stored = {d["_id"]: d async for d in messages.collection.find({"session_id": session_id})}
    assert {key: len(d["messages"]) for key, d in stored.items()} == {f"{session_id}:b1": 3, f"{session_id}:b2": 1}

    async with chat.connect(session_id, token, after=sent[3]["id"]) as customer:
        assert (await chat.frame(customer))["last_seq"] == 7
        assert [m["text"] for m in await chat.messages(customer, 3)] == ["line 4", "line 5", "line 6"]
        # A retry of a message in the newest bucket is recognised, not stored again.
        await customer.send(json.dumps({"type": "message", "text": "line 6", "client_id": "c6"}))
        assert (await chat.frame_of(customer, "message"))["seq"] == 7
        await customer.send(json.dumps({"type": "message", "text": "line 7"}))
        assert (await chat.frame_of(customer, "message"))["seq"] == 8


async def test_an_ended_session_moves_to_the_history_and_reads_the_same(small_buckets_chat):
    chat = small_buckets_chat
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.technician()) as technician:
        await chat.frame_of(technician, "message", author="system")
        for n in range(4):
            await technician.send(json.dumps({"type": "message", "text": f"step {n}"}))
        await chat.messages(technician, 4)
        await technician.send(json.dumps({"type": "end", "outcome": "resolved", "notes": "done"}))
        await chat.closed(technician)
    await chat.ended(request_id)
    admin = chat.auth(chat.admin())
    live = (await chat.http.get(f"/sessions/{session_id}", headers=admin)).json()
    transcript_before = (await chat.http.get(f"/sessions/{session_id}/transcript", headers=admin)).text

    lifecycle = chat.service.handlers.lifecycle
    lifecycle.archive_after = timedelta(0)
    try:
        assert await lifecycle.archive_due() >= 1
    finally:
        lifecycle.archive_after = timedelta(seconds=60)
    # Gone from the live collections...
    assert await lifecycle.sessions.raw(session_id) is None
    assert await lifecycle.messages.collection.find_one({"session_id": session_id}) is None
    # ...and read the same from the history.
    assert (await chat.http.get(f"/sessions/{session_id}", headers=admin)).json() == live
    assert (await chat.http.get(f"/sessions/{session_id}/transcript", headers=admin)).text == transcript_before
    listed = (await chat.http.get("/sessions", params={"state": "completed"}, headers=admin)).json()["sessions"]
    assert session_id in {s["session_id"] for s in listed}
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        frames, code, _ = await chat.closed(customer)
    assert frames[0]["state"] == "completed" and code == 1000
    assert [f["seq"] for f in frames[1:]] == [m["seq"] for m in live["messages"]]
    ended_again = await chat.http.post(
        f"/sessions/{session_id}/end", json={"outcome": "resolved"}, headers=chat.auth(chat.technician())
    )
    assert ended_again.status_code == 409

    # An old assignment redelivered after the archiving opens nothing.
    late = chat.assigned(request_id)
    late = late.model_copy(
        update={"data": late.data.model_copy(update={"assigned_at": datetime.now(UTC) - timedelta(hours=1)})}
    )
    await lifecycle.on_assigned(late)
    assert await lifecycle.sessions.raw(session_id) is None
    assert len(chat.events("ChatSessionStarted", request_id)) == 1

    # Retention: the history forgets it.
    lifecycle.history_retention = timedelta(0)
    try:
        await lifecycle.forget_due()
    finally:
        lifecycle.history_retention = timedelta(days=365)
    assert (await chat.http.get(f"/sessions/{session_id}", headers=admin)).status_code == 404
