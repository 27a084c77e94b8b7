"""The dashboard's day buckets against the real store: one document per company and UTC day,
each event counted once however often it is delivered, 7-day figures, retention."""

import asyncio
import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts import ChatSessionRated, Envelope, RequestCancelled, RequestSubmitted
from portal_svc.adapters.dashboard import DashboardRepository
from portal_svc.handlers.dashboard import Dashboard
from servicekit.mongo import make_mongo_client
from testkit import eventually

pytestmark = pytest.mark.integration

ACCOUNT, COMPANY = "acc_dash", "cmp_dash"
TODAY = date(2026, 3, 10)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def submitted(when: datetime, company_id: str = COMPANY) -> Envelope[RequestSubmitted]:
    data = RequestSubmitted.model_construct(
        request_id="req_" + uuid.uuid4().hex[:8], account_id=ACCOUNT, company_id=company_id, submitted_at=when
    )
    return Envelope[RequestSubmitted].model_construct(event_id=uuid.uuid4(), occurred_at=when, data=data)


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


def cancelled(when: datetime, reason: str = "customer") -> Envelope[RequestCancelled]:
    data = RequestCancelled(request_id="req_y", account_id=ACCOUNT, company_id=COMPANY, reason=reason)
    event = Envelope[RequestCancelled].of(data, producer="portal-svc", correlation_id="req_y")
    return event.model_copy(update={"occurred_at": when})


@pytest.fixture
async def dashboard(real_backends):
    client = make_mongo_client(real_backends.mongodb_url, app_name="dashboard-test")
    days = DashboardRepository(client[f"portal-dash-{uuid.uuid4().hex[:6]}"]["dashboard_days"])
    await days.ensure_indexes()
    try:
        yield Dashboard(days)
    finally:
        await client.close()


async def test_each_event_counts_once_into_its_company_and_utc_day(dashboard):
    first = submitted(at(TODAY, 23))
    # Redelivered, even concurrently: counted once.
    outcomes = await asyncio.gather(*(dashboard.submitted(first) for _ in range(4)))
    assert sorted(outcomes) == [False, False, False, True]
    assert await dashboard.submitted(submitted(at(TODAY, 1))) is True
    assert await dashboard.submitted(submitted(at(TODAY - timedelta(days=1)))) is True
    assert await dashboard.submitted(submitted(at(TODAY), company_id="cmp_other")) is True
    five = rated(5, at(TODAY))
    assert await dashboard.rated(five) is True and await dashboard.rated(five) is False
    assert await dashboard.rated(rated(2, at(TODAY - timedelta(days=3)))) is True
    assert await dashboard.cancelled(cancelled(at(TODAY))) is True
    # Not the customer's choice: a request cancelled with its deleted company is not abandoned.
    await dashboard.cancelled(cancelled(at(TODAY), reason="company_deleted"))

    summary = await dashboard.summary(COMPANY, today=TODAY)
    assert summary["today"]["requests"] == 2  # 01:00 and 23:00 UTC; not the other company's
    assert summary["today"]["abandoned"] == 1 and summary["today"]["abandonment"] == 0.5
    assert (summary["today"]["ratings"], summary["today"]["average_rating"]) == (1, 5.0)
    assert summary["last_7_days"]["requests"] == 3
    assert (summary["last_7_days"]["ratings"], summary["last_7_days"]["average_rating"]) == (2, 3.5)
    assert [d["day"] for d in summary["by_day"]][-1] == TODAY.isoformat() and len(summary["by_day"]) == 7
    assert [d["requests"] for d in summary["by_day"]] == [0, 0, 0, 0, 0, 1, 2]
    # One document per company and day.
    ids = sorted([doc["_id"] async for doc in dashboard.days.collection.find({}, {"_id": 1})])
    assert ids == [
        f"{COMPANY}:2026-03-07",
        f"{COMPANY}:2026-03-09",
        f"{COMPANY}:2026-03-10",
        "cmp_other:2026-03-10",
    ]


async def test_days_past_the_retention_are_deleted(dashboard):
    assert await dashboard.submitted(submitted(at(TODAY - timedelta(days=60)))) is True
    assert await dashboard.submitted(submitted(at(TODAY - timedelta(days=2)))) is True
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
