"""Finished requests leave the live collection for history, stay readable by id, and expire."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts import ChatSessionEnded, RequestAssigned
from testkit import bearer, eventually

pytestmark = pytest.mark.integration


async def status_of(portal, request) -> dict:
    response = await portal.http.get(f"/api/portal/requests/{request['request_id']}", headers=bearer(request["token"]))
    assert response.status_code in (200, 404), response.text
    return response.json()


async def test_finished_requests_move_to_history_and_stay_readable(portal):
    live, history = portal.runtime.db["requests"], portal.runtime.db["requests_history"]
    cancelled = (await portal.submit("initech")).json()
    response = await portal.http.post(
        f"/api/portal/requests/{cancelled['request_id']}/cancel", headers=bearer(cancelled["token"])
    )
    assert response.json()["status"] == "cancelled"
    ended = (await portal.submit("initech")).json()
    now = datetime.now(UTC)
    common = {"request_id": ended["request_id"], "account_id": "acc_acme", "company_id": "cmp_initech"}
    await portal.publish(
        RequestAssigned(
            **common,
            technician_id="tec_chloe",
            mode="queue",
            portal_type="smart_box",
            customer_name="Carla",
            alert=True,
            assigned_at=now,
        ),
        occurred_at=now,
    )
    await eventually(lambda: _has_status(portal, ended, "assigned"), what="assigned")
    await portal.publish(
        ChatSessionEnded(
            **common, session_id="cht_h1", technician_id="tec_chloe", ended_by="technician", outcome="resolved"
        )
    )
    await eventually(lambda: _has_status(portal, ended, "ended"), what="ended")
    pending = (await portal.submit("initech")).json()

    async def archived() -> bool:
        # The periodic task may beat us to it; calling the tick is the positive barrier.
        await portal.handlers.housekeeping.archive_finished()
        ids = [cancelled["request_id"], ended["request_id"]]
        return await live.count_documents({"_id": {"$in": ids}}) == 0

    await eventually(archived, what="finished requests archived (the cancellation's outbox published first)")
    assert await history.count_documents({"_id": {"$in": [cancelled["request_id"], ended["request_id"]]}}) == 2
    assert await live.find_one({"_id": pending["request_id"]}) is not None  # in flight: stays live
    view = await status_of(portal, ended)
    assert (view["status"], view["technician"]["display_name"]) == ("ended", "Chloe")
    assert (await status_of(portal, cancelled))["status"] == "cancelled"
    again = await portal.http.post(
        f"/api/portal/requests/{cancelled['request_id']}/cancel", headers=bearer(cancelled["token"])
    )
    assert again.json()["status"] == "cancelled"  # a repeated click still answers from history

    # Retention: the periodic clean-up forgets what is past it (a real MongoDB's TTL monitor
    # may get there first; the embedded store's too).
    later = datetime.now(UTC) + timedelta(days=portal.runtime.settings.history_retention_days + 1)
    await portal.handlers.housekeeping.forget_old_history(now=later)
    for request in (ended, cancelled):
        gone = await portal.http.get(f"/api/portal/requests/{request['request_id']}", headers=bearer(request["token"]))
        assert gone.status_code == 404 and gone.json()["error"] == "request_not_found"
    assert (await status_of(portal, pending))["status"] == "submitted"


async def _has_status(portal, request, status: str) -> bool:
    return (await status_of(portal, request)).get("status") == status
