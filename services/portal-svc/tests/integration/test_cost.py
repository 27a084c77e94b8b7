"""Store commands per request on portal's hot paths, counted by PyMongo's command monitoring:
a submission, then the events that keep the customer's status and the dashboard until the chat
ends (handed to the handlers as the consumers do), then the finished request's move to history
(a batch, whose cost is shared by every request in it)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import servicekit.mongo
from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    EventPayload,
    RequestAssigned,
    RequestOffered,
    RequestQueued,
)
from servicekit.mongo import CommandStats
from testkit import eventually

pytestmark = pytest.mark.integration

REQUESTS = 6
BUDGET = 8.75
"""Commands per request in this mix (every request goes through 4 status events): the shared
submission limit 1, the insert with its event 1 (the outbox cleared in a batch: one command
for all six requests), the availability
read of a Web portal 1 (half the requests), one conditional write per consumed event 4 (it
returns the record: the dashboard's tiles and figures read the records, so a move costs the
dashboard nothing), the finished request counted into its day bucket 1, and the portal cache's
first read of the second portal (2 reads, once in the run). Portal's own `RequestSubmitted`
consumed back costs nothing here (no e-mail: no customer history; the dashboard only tells its
sockets). Measured 8.0 (8.83 when each write's outbox was cleared on its own), and 0.5 more
on a slower run (one status move retried once); the dashboard used to add 10 more (a write per event and per read model, and the request record
read back twice)."""
IDLE = 3600.0  # periodic tasks out of the way: their cost is per second, not per request


def envelope(data: EventPayload, at: datetime) -> Envelope[Any]:
    event: Envelope[Any] = Envelope[type(data)].of(data, producer="test", correlation_id="c")  # type: ignore[misc]
    return event.model_copy(update={"occurred_at": at})


async def life_of_a_request(instance, subdomain: str, mode: str, company_id: str) -> None:
    """What portal does for one assigned request: the events are handed to the handlers the
    consumers call, as they call them (`entrypoints.consumers`), so no other replica of the
    suite can take them."""
    submitted = await instance.submit(subdomain)
    assert submitted.status_code == 201, submitted.text
    request_id = submitted.json()["request_id"]
    common = {"request_id": request_id, "account_id": "acc_acme", "company_id": company_id}
    technician = "tec_ana"
    status, dashboard, t0 = instance.handlers.request_status, instance.handlers.dashboard, datetime.now(UTC)
    if mode == "queue":
        queued = envelope(RequestQueued(**common, position=1, queued_since=t0), t0)
        assert await dashboard.moved(queued, await status.queued(queued))
    else:
        offer = RequestOffered(
            **common, technician_ids=[technician], portal_type="smart_box", customer_name="C", expires_at=t0
        )
        offered = envelope(offer, t0)
        assert await dashboard.moved(offered, await status.offered(offered))
    at = t0 + timedelta(milliseconds=5)
    assigned = RequestAssigned(
        **common,
        technician_id=technician,
        mode=mode,
        portal_type="smart_box",
        customer_name="C",
        alert=True,
        assigned_at=at,
    )
    assigned_event = envelope(assigned, at)
    assert await dashboard.moved(assigned_event, await status.assigned(assigned_event))
    chat = {**common, "session_id": f"cht_{uuid.uuid4().hex[:8]}", "technician_id": technician}
    started = envelope(ChatSessionStarted(**chat), at)
    assert await dashboard.moved(started, await status.chat_started(started))
    ended = envelope(ChatSessionEnded(**chat, ended_by="technician", outcome="resolved"), at)
    assert await dashboard.finished(ended, await status.chat_ended(ended))


async def test_store_commands_per_assigned_request(start_portal, monkeypatch):
    stats = CommandStats()
    # This instance's client counts into its own listener (the suite's other instances share
    # the process-wide one).
    monkeypatch.setattr(servicekit.mongo, "STORE_STATS", stats)
    idle = {
        "outbox_sweep_seconds": IDLE,
        "outbox_clear_seconds": IDLE,  # cleared by the test, inside the window it measures
        "archive_every_seconds": IDLE,
        "history_cleanup_seconds": IDLE,
        "limits_cleanup_seconds": IDLE,
    }
    async with start_portal(**idle) as instance:
        monkeypatch.undo()
        # Start-up's one-off work (re-announcing technicians and companies) is not a request's.
        await eventually(lambda: instance.handlers.housekeeping.reannounced, timeout=30, what="start-up re-announce")
        await life_of_a_request(instance, "globex", "web", "cmp_globex")  # warm: portal cache, indexes
        await instance.runtime.outbox.clear_published()
        before = stats.snapshot()
        for index in range(REQUESTS):
            if index % 2:
                await life_of_a_request(instance, "initech", "queue", "cmp_initech")
            else:
                await life_of_a_request(instance, "globex", "web", "cmp_globex")
        assert await instance.runtime.outbox.clear_published() == REQUESTS
        after = stats.snapshot()
        per_request = _delta(before, after, REQUESTS)
        was = before.get("by_collection", {})
        where = {
            key: round((count - was.get(key, 0)) / REQUESTS, 2)
            for key, count in after.get("by_collection", {}).items()
            if count != was.get(key, 0)
        }
        # A dashboard read: the company's unfinished records, its 7 day buckets, its technicians.
        before = stats.snapshot()
        summary = await instance.handlers.dashboard.summary("cmp_globex")
        read = _delta(before, stats.snapshot(), 1)
        assert sum(read.values()) == 3, read
        today = summary["today"]
        assert (today["requests"], today["answered"]) == (4, 4) and today["median_handling_seconds"] == 0
        before = stats.snapshot()
        assert await instance.handlers.housekeeping.archive_finished() == REQUESTS + 1
        archive = _delta(before, stats.snapshot(), REQUESTS + 1)
    print(f"\nportal store commands per assigned request: {per_request}\narchive batch, per request: {archive}")
    print(f"by collection: {where}")
    assert sum(per_request.values()) <= BUDGET, per_request
    assert sum(archive.values()) < 1, archive


def _delta(before: dict[str, Any], after: dict[str, Any], count: int) -> dict[str, float]:
    names = set(after["by_command"])
    return {
        name: round((after["by_command"][name]["ok"] - before["by_command"].get(name, {"ok": 0})["ok"]) / count, 2)
        for name in sorted(names)
        if after["by_command"][name]["ok"] != before["by_command"].get(name, {"ok": 0})["ok"]
    }
