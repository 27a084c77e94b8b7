"""The dashboard's figures against the real store: unfinished requests counted from their own
records, a finished request counted once into its company's UTC day bucket (one document per
company and day) however often its end is delivered, 7-day figures, retention."""

import asyncio
import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts import ChatSessionEnded, ChatSessionRated, Envelope, EventPayload, RequestCancelled
from portal_svc.adapters.dashboard import DashboardRepository
from portal_svc.adapters.requests import RequestRepository
from portal_svc.handlers.dashboard import Dashboard
from portal_svc.handlers.request_status import RequestStatus
from servicekit.mongo import make_mongo_client
from servicekit.outbox import Outbox
from testkit import eventually

pytestmark = pytest.mark.integration

ACCOUNT, COMPANY = "acc_dash", "cmp_dash"
TODAY = date(2026, 3, 10)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def event(data: EventPayload, when: datetime) -> Envelope[EventPayload]:
    made: Envelope[EventPayload] = Envelope[type(data)].of(data, producer="test", correlation_id="c")  # type: ignore[misc]
    return made.model_copy(update={"occurred_at": when})


def rated(score: int, when: datetime) -> Envelope[ChatSessionRated]:
    data = ChatSessionRated(
        session_id="cht_x",
        request_id="req_x",
        account_id=ACCOUNT,
        company_id=COMPANY,
        technician_id="tec_ana",
        score=score,
        rated_at=when,
    )
    return Envelope[ChatSessionRated].of(data, producer="chat-svc", correlation_id="req_x")


class Desk:
    """The dashboard over real collections, and the request records it counts from."""

    def __init__(self, dashboard: Dashboard, requests: RequestRepository) -> None:
        self.dashboard = dashboard
        self.status = RequestStatus(requests)
        self.raw = requests._requests

    async def submitted(self, when: datetime, company_id: str = COMPANY, **fields) -> str:
        request_id = "req_" + uuid.uuid4().hex[:8]
        doc = {"_id": request_id, "account_id": ACCOUNT, "company_id": company_id, "status": "submitted"}
        await self.raw.insert_one({**doc, "submitted_at": when, "status_at": when, **fields})
        return request_id

    def common(self, request_id: str, company_id: str = COMPANY) -> dict[str, str]:
        return {"request_id": request_id, "account_id": ACCOUNT, "company_id": company_id}

    async def ended(self, request_id: str, when: datetime, company_id: str = COMPANY) -> Envelope[ChatSessionEnded]:
        data = ChatSessionEnded(
            **self.common(request_id, company_id),
            session_id="cht_" + request_id,
            technician_id="tec_ana",
            ended_by="technician",
            outcome="resolved",
        )
        return event(data, when)  # type: ignore[return-value]

    async def end(self, request_id: str, when: datetime, company_id: str = COMPANY) -> bool:
        """What the consumer does: the status move, then the count from what it returned."""
        ended = await self.ended(request_id, when, company_id)
        return await self.dashboard.finished(ended, await self.status.chat_ended(ended))


@pytest.fixture
async def desk(real_backends):
    client = make_mongo_client(real_backends.mongodb_url, app_name="dashboard-test")
    database = client[f"portal-dash-{uuid.uuid4().hex[:6]}"]

    async def nowhere(_event: Envelope, *, maybe_repeat: bool = False) -> None:
        return None

    requests = RequestRepository(Outbox(nowhere).collection(database["requests"]), database["requests_history"])
    days = DashboardRepository(database["dashboard_days"])
    await days.ensure_indexes()
    try:
        yield Desk(Dashboard(days, requests=requests), requests)
    finally:
        await client.close()


async def test_each_finished_request_counts_once_into_its_company_and_utc_day(desk):
    dashboard = desk.dashboard
    late = await desk.submitted(at(TODAY, 23), chat_started_at=at(TODAY, 23) + timedelta(seconds=30))
    ended = await desk.ended(late, at(TODAY, 23) + timedelta(seconds=90))
    assert await desk.status.chat_ended(ended) is not None
    # Its end delivered again, even concurrently (the move applies once; the count too).
    outcomes = await asyncio.gather(*(dashboard.finished(ended, None) for _ in range(4)))
    assert sorted(outcomes) == [False, False, False, True]
    assert await desk.end(late, at(TODAY, 23) + timedelta(seconds=90)) is False
    # Still waiting: counted from its record, nothing stored for it.
    await desk.submitted(at(TODAY, 1), answered_at=at(TODAY, 1) + timedelta(seconds=40), status="assigned")
    assert await desk.end(await desk.submitted(at(TODAY - timedelta(days=1))), at(TODAY - timedelta(days=1))) is True
    assert await desk.end(await desk.submitted(at(TODAY), "cmp_other"), at(TODAY), "cmp_other") is True
    five = rated(5, at(TODAY))
    assert await dashboard.rated(five) is True and await dashboard.rated(five) is False
    assert await dashboard.rated(rated(2, at(TODAY - timedelta(days=3)))) is True
    # The customer's cancellation was stored when asked for; its event counts the request.
    given_up = await desk.submitted(at(TODAY, 2), status="cancelled")
    cancel = event(RequestCancelled(**desk.common(given_up)), at(TODAY, 2))
    assert await dashboard.finished(cancel, await desk.status.cancelled(cancel)) is True  # type: ignore[arg-type]
    # Not the customer's choice: a request cancelled with its deleted company is not abandoned.
    deleted = await desk.submitted(at(TODAY, 3))
    by_deletion = event(RequestCancelled(**desk.common(deleted), reason="company_deleted"), at(TODAY, 3))
    assert await dashboard.finished(by_deletion, await desk.status.cancelled(by_deletion)) is True  # type: ignore[arg-type]

    summary = await dashboard.summary(COMPANY, today=TODAY)
    today = summary["today"]
    assert today["requests"] == 4  # 01:00, 02:00, 03:00 and 23:00 UTC; not the other company's
    assert today["abandoned"] == 1 and today["abandonment"] == 0.25
    assert (today["answered"], today["median_wait_seconds"], today["median_handling_seconds"]) == (2, 35.0, 60.0)
    assert (today["ratings"], today["average_rating"]) == (1, 5.0)
    assert summary["last_7_days"]["requests"] == 5
    assert (summary["last_7_days"]["ratings"], summary["last_7_days"]["average_rating"]) == (2, 3.5)
    assert [d["day"] for d in summary["by_day"]][-1] == TODAY.isoformat() and len(summary["by_day"]) == 7
    assert [d["requests"] for d in summary["by_day"]] == [0, 0, 0, 0, 0, 1, 4]
    assert summary["live"]["requests_waiting"] == 1
    # One document per company and day; the unfinished request has none of its own.
    ids = sorted([doc["_id"] async for doc in dashboard.days.collection.find({}, {"_id": 1})])
    assert ids == [
        f"{COMPANY}:2026-03-07",
        f"{COMPANY}:2026-03-09",
        f"{COMPANY}:2026-03-10",
        "cmp_other:2026-03-10",
    ]
    stored = await dashboard.days.collection.find_one({"_id": f"{COMPANY}:2026-03-10"})
    assert (stored["requests"], stored["answered"], stored["abandoned"]) == (3, 1, 1)


async def test_days_past_the_retention_are_deleted(desk):
    dashboard = desk.dashboard
    assert await desk.end(await desk.submitted(at(TODAY - timedelta(days=60))), at(TODAY - timedelta(days=60)))
    assert await desk.end(await desk.submitted(at(TODAY - timedelta(days=2))), at(TODAY - timedelta(days=2)))
    assert await dashboard.forget_old_days(today=TODAY) == 1
    remaining = [doc["day"] async for doc in dashboard.days.collection.find({}, {"day": 1})]
    assert remaining == [(TODAY - timedelta(days=2)).isoformat()]


async def test_the_running_portal_counts_ratings_and_requests_for_the_accounts_admin(portal, admin):
    created = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    company_id = created["company_id"]
    account_id = (await portal.http.get("/api/portal/auth/me", headers=admin)).json()["account_id"]
    url = f"/api/portal/dashboard/companies/{company_id}"
    empty = (await portal.http.get(url, headers=admin)).json()
    assert empty["today"]["ratings"] == 0 and empty["today"]["requests"] == 0

    submitted = await portal.submit(created["subdomain"])
    assert submitted.status_code in (200, 201, 202), submitted.text
    now = datetime.now(UTC)
    for score in (5, 3):
        data = ChatSessionRated(
            session_id=f"cht_{score}",
            request_id=f"req_{score}",
            account_id=account_id,
            company_id=company_id,
            technician_id="tec_ana",
            score=score,
            rated_at=now,
        )
        await portal.publish(data)

    async def counted() -> dict | None:
        today = (await portal.http.get(url, headers=admin)).json()["today"]
        return today if today["ratings"] == 2 and today["requests"] == 1 else None

    today = await eventually(counted, timeout=20, what="the dashboard counted the request and both ratings")
    assert today["average_rating"] == 4.0

    # The CSV export: one row per UTC day, oldest first, today last.
    exported = await portal.http.get(f"{url}.csv", headers=admin)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 7 and rows[-1]["day"] == now.date().isoformat()
    assert (rows[-1]["requests"], rows[-1]["ratings"], rows[-1]["average_rating"]) == ("1", "2", "4.0")
    assert rows[0]["median_wait_seconds"] == ""  # no value: an empty cell, not "None"
    assert (await portal.http.get(f"{url}.csv")).status_code == 401

    # Someone else's company, a bad id, no token or a technician's: refused, as JSON.
    assert (await portal.http.get("/api/portal/dashboard/companies/cmp_nope", headers=admin)).status_code == 404
    assert (await portal.http.get("/api/portal/dashboard/companies/bad id!", headers=admin)).status_code == 422
    assert (await portal.http.get(url)).status_code == 401
