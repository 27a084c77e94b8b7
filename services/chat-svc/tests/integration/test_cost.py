"""Store commands per assigned request on chat's hot paths, counted by PyMongo's command
monitoring — the benchmark's flow: the assignment opens the session (ChatSessionStarted),
the technician joins on a socket, sends a few messages and ends over HTTP; later the ended
session moves to the history in a batch shared by every session in it.

Five and a half per request with two messages (down from 14, and 16 with the archiving):
- open 1: the insert carrying ChatSessionStarted (its outbox cleared in the batch below);
- join 1: ONE write that authorizes the technician (its filter), marks their first join,
  stores "… has joined the chat." in bucket 0 — the session document itself — and returns
  the history with it (no read first). The socket's place for its token costs nothing here:
  the technician's previous socket on this replica closed, and its place, not yet given
  back, is taken again (a first socket of a token costs one command more);
- each message 1: numbered and appended to the session document;
- end 1: ONE write ending the session, sealing bucket 0 with the closing notice and staging
  ChatSessionEnded (the session as the socket joined is reused: no read);
- socket closed 0: its place is given back in the next batch (one bulk write a second for
  every token closed since the last), or taken again by the token's next socket;
- the outbox's batched clear: ONE command (a bulk write) for all the sessions written since
  the last one (0.2 per request for these five; less under load, when a batch holds more);
- archive: a short chat is one document, so a batch is one find, one insert and one delete
  (about 0.5 per request for this batch of six; less in larger ones)."""

import json
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from chat_svc.adapters.hub import token_key
from testkit import eventually

pytestmark = pytest.mark.integration

REQUESTS = 5
MESSAGES = 2
PER_REQUEST = 5.6  # measured 5.4: 27 commands for the five (one retried write more is allowed)
OPEN_AND_END = 2
JOIN = 1
PER_MESSAGE = 1
CLOSE = 0
ARCHIVE = 1


def delta(before: dict[str, Any], after: dict[str, Any], count: int = 1) -> dict[str, float]:
    names = set(after["by_command"])
    ok = {name: after["by_command"][name]["ok"] - before["by_command"].get(name, {"ok": 0})["ok"] for name in names}
    return {name: round(n / count, 2) for name, n in sorted(ok.items()) if n}


def total(counts: dict[str, float]) -> float:
    return round(sum(counts.values()), 2)


async def test_store_commands_per_assigned_request(measured_chat, real_backends):
    chat, stats = measured_chat
    service = chat.service
    phases: dict[str, list[dict[str, float]]] = {"open": [], "join": [], "message": [], "end": [], "close": []}
    token = chat.technician()
    checker: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(real_backends.mongodb_url)  # not measured
    counters = checker[service.runtime.settings.database_name]["sockets"]
    counter, key = service.handlers.counter, token_key(token)

    async def released() -> bool:
        document = await counters.find_one({})
        return document is not None and sum(document["counts"].values()) == 0

    async def one_request() -> str:
        request_id = chat.new_request()
        before = stats.snapshot()
        # Handed to the handler the consumer calls (one line), as the benchmark's dispatch would.
        await service.handlers.lifecycle.on_assigned(chat.assigned(request_id))
        phases["open"].append(delta(before, stats.snapshot()))
        session_id = chat.session_of(request_id)

        before = stats.snapshot()
        async with chat.connect(session_id, token) as technician:
            await chat.frame_of(technician, "message", author="system")  # has joined: all stored
            phases["join"].append(delta(before, stats.snapshot()))
            for index in range(MESSAGES):
                before = stats.snapshot()
                await technician.send(json.dumps({"type": "message", "text": f"Step {index}: restart it"}))
                await chat.frame_of(technician, "message", author="technician")
                phases["message"].append(delta(before, stats.snapshot()))
            before = stats.snapshot()
            ended = await chat.http.post(
                f"/sessions/{session_id}/end", json={"outcome": "resolved", "notes": "bench"}, headers=chat.auth(token)
            )
            assert ended.status_code == 200, ended.text
            phases["end"].append(delta(before, stats.snapshot()))
            before = stats.snapshot()
            await chat.closed(technician)
        # Barrier: the server has seen the close; the socket's place waits for the batch.
        await eventually(lambda: counter.releasing(key) == 1, timeout=10, what="the chat socket closed")
        phases["close"].append(delta(before, stats.snapshot()))
        return session_id

    await one_request()  # warm-up: what start-up left in flight lands here
    await service.runtime.outbox.clear_published()
    for phase in phases.values():
        phase.clear()
    start = stats.snapshot()
    for _ in range(REQUESTS):
        session_id = await one_request()
    assert await service.runtime.outbox.clear_published() == REQUESTS
    assert await counter.flush() == 1  # the one token's place, in one command
    assert await released()
    await checker.close()
    whole = delta(start, stats.snapshot(), REQUESTS)

    lifecycle = service.handlers.lifecycle
    lifecycle.archive_after = timedelta(0)
    before = stats.snapshot()
    assert await lifecycle.archive_due() == REQUESTS + 1
    archive = delta(before, stats.snapshot(), REQUESTS + 1)

    def mean(phase: str) -> float:
        return round(sum(total(d) for d in phases[phase]) / len(phases[phase]), 2)

    print(
        f"\nchat store commands per assigned request: {total(whole)} {whole}"
        f"\n  open {mean('open')} {phases['open'][-1]}"
        f"\n  join (technician) {mean('join')} {phases['join'][-1]}"
        f"\n  message {mean('message')} {phases['message'][-1]}"
        f"\n  end (HTTP) {mean('end')} {phases['end'][-1]}"
        f"\n  socket closed {mean('close')} {phases['close'][-1]}"
        f"\n  archive batch, per request {total(archive)} {archive}"
    )
    assert total(whole) <= PER_REQUEST
    assert mean("open") + mean("end") <= OPEN_AND_END
    assert mean("join") <= JOIN
    assert max(total(d) for d in phases["message"]) <= PER_MESSAGE
    assert mean("close") <= CLOSE
    assert total(archive) <= ARCHIVE

    # Archived sessions read as before, from the history.
    detail = await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))
    assert detail.status_code == 200
    body = detail.json()
    assert body["session"]["state"] == "completed"
    assert [m["author"] for m in body["messages"]] == ["system", "technician", "technician", "system"]
    transcript = await chat.http.get(f"/sessions/{session_id}/transcript", headers=chat.auth(token))
    assert "Step 1: restart it" in transcript.text and "The technician ended the chat." in transcript.text
