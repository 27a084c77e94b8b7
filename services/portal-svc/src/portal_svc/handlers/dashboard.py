"""The supervisor dashboard, fed by events (never by reading other services' databases):
per company and UTC day the requests, waits, handling times, abandonment and satisfaction
(`DashboardRepository`), and the desk as it is now (`DashboardLiveRepository`); the summary
puts today, the last 7 days and the live state together.

The wait of a request ends at its first assignment: every chat opens on an assignment, and
a Queue-mode request assigned again later was already answered once. Its start is the
submission time in portal-svc's own request record (read by `_id`), so the order in which
events arrive does not matter. Handling time is chat opening to chat end, both from that
record (`chat_started_at`, written by `RequestStatus` before the dashboard hears of the end).
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from contracts import (
    ChatSessionEnded,
    ChatSessionRated,
    ChatSessionStarted,
    Envelope,
    RequestAssigned,
    RequestCancelled,
    RequestOffered,
    RequestQueued,
    RequestRejected,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
)
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.dashboard import DashboardRepository
from portal_svc.adapters.dashboard_live import DashboardLiveRepository
from portal_svc.adapters.requests import RequestRepository
from portal_svc.domain.dashboard import RETENTION_DAYS, days_back, figures
from portal_svc.domain.dashboard_live import UNAVAILABLE_AS, Stage, TechnicianState, as_utc, live_view
from servicekit.auth import Principal, Role
from servicekit.exceptions import NotFound

WEEK = 7
VIEWERS = frozenset({Role.ADMIN, Role.SUPERVISOR})

Changed = Callable[[str], Awaitable[None]]
"""Tells the dashboard sockets of a company (on every replica) that its figures moved."""


async def _nobody_watches(_company_id: str) -> None:
    return None


def _seconds(start: object, end: datetime) -> float | None:
    if not isinstance(start, datetime):
        return None
    seconds = (as_utc(end) - as_utc(start)).total_seconds()
    return seconds if seconds >= 0 else None


class Dashboard:
    def __init__(
        self,
        days: DashboardRepository,
        companies: CompanyRepository | None = None,
        live: DashboardLiveRepository | None = None,
        requests: RequestRepository | None = None,
        changed: Changed = _nobody_watches,
    ) -> None:
        self.days = days
        self.companies = companies
        self.live = live
        self.requests = requests
        self.changed = changed

    async def check_viewer(self, viewer: Principal, company_id: str) -> None:
        """An admin or supervisor may see the companies of their account, as portal-svc's own
        companies say (not the token's claims)."""
        if self.companies is None or await self.companies.get(viewer.account_id, company_id) is None:
            raise NotFound("There is no such company in your account.", code="company_not_found")

    async def for_viewer(self, viewer: Principal, company_id: str) -> dict[str, Any]:
        await self.check_viewer(viewer, company_id)
        return await self.summary(company_id)

    async def companies_of(self, viewer: Principal) -> list[dict[str, str]]:
        """The companies a dashboard viewer may pick from (every company of the account)."""
        docs = await self.companies.of_account(viewer.account_id) if self.companies else []
        return [{"company_id": doc["_id"], "name": doc["name"]} for doc in docs]

    async def _told(self, company_id: str, changed: bool) -> bool:
        if changed:
            await self.changed(company_id)
        return changed

    async def _move(self, event: Envelope[Any], stage: Stage, **fields: Any) -> bool:
        data = event.data
        if self.live is None:
            return False
        return await self.live.move_request(
            data.company_id, data.account_id, data.request_id, stage, event.occurred_at, **fields
        )

    async def _count(
        self, event: Envelope[Any], at: datetime, counts: dict[str, int], samples: dict[str, float] | None = None
    ) -> bool:
        """Count the event into its company's bucket for the UTC day of `at` (once per event id)."""
        data = event.data
        return await self.days.record(
            event.event_id,
            company_id=data.company_id,
            account_id=data.account_id,
            at=at,
            counts=counts,
            samples=samples,
        )

    async def _sample(
        self, event: Envelope[Any], since: str, until: datetime, series: str, counts: dict[str, int]
    ) -> bool:
        """Count the time from the request record's `since` field to `until` into `series`."""
        if self.requests is None:
            return False
        request = await self.requests.get(event.data.request_id)
        seconds = _seconds((request or {}).get(since), until)
        return seconds is not None and await self._count(event, until, counts, {series: seconds})

    async def submitted(self, event: Envelope[RequestSubmitted]) -> bool:
        data = event.data
        counted = await self._count(event, data.submitted_at, {"requests": 1})
        moved = await self._move(event, Stage.WAITING, since=data.submitted_at)
        return await self._told(data.company_id, counted or moved)

    async def queued(self, event: Envelope[RequestQueued]) -> bool:
        moved = await self._move(event, Stage.QUEUED, since=event.data.queued_since)
        return await self._told(event.data.company_id, moved)

    async def offered(self, event: Envelope[RequestOffered]) -> bool:
        return await self._told(event.data.company_id, await self._move(event, Stage.OFFERED))

    async def assigned(self, event: Envelope[RequestAssigned]) -> bool:
        data = event.data
        moved = await self._move(event, Stage.ASSIGNED, technician_id=data.technician_id)
        first = data.assignment == 1
        counted = first and await self._sample(event, "submitted_at", data.assigned_at, "waits", {"answered": 1})
        return await self._told(data.company_id, moved or counted)

    async def rejected(self, event: Envelope[RequestRejected]) -> bool:
        return await self._told(event.data.company_id, await self._move(event, Stage.DONE))

    async def chat_started(self, event: Envelope[ChatSessionStarted]) -> bool:
        moved = await self._move(event, Stage.CHAT, technician_id=event.data.technician_id)
        return await self._told(event.data.company_id, moved)

    async def chat_ended(self, event: Envelope[ChatSessionEnded]) -> bool:
        moved = await self._move(event, Stage.DONE)
        counted = await self._sample(event, "chat_started_at", event.occurred_at, "handling", {})
        return await self._told(event.data.company_id, moved or counted)

    async def cancelled(self, event: Envelope[RequestCancelled]) -> bool:
        """A request the customer gave up before any chat counts as abandoned on the day it was
        given up; one cancelled because its company was deleted leaves the live state only."""
        counted = event.data.reason == "customer" and await self._count(event, event.occurred_at, {"abandoned": 1})
        moved = await self._move(event, Stage.DONE)
        return await self._told(event.data.company_id, counted or moved)

    async def rated(self, event: Envelope[ChatSessionRated]) -> bool:
        data = event.data
        counts = {"ratings": 1, "score_sum": data.score, f"score_{data.score}": 1}
        return await self._told(data.company_id, await self._count(event, data.rated_at, counts))

    async def _technician(
        self, company_ids: list[str], account_id: str, technician_id: str, state: str, seq: int
    ) -> bool:
        changed = False
        for company_id in company_ids:
            if self.live is not None and await self.live.technician(company_id, account_id, technician_id, state, seq):
                changed = True
                await self.changed(company_id)
        return changed

    async def technician_available(self, event: Envelope[TechnicianAvailable]) -> bool:
        data = event.data
        state = TechnicianState.AVAILABLE.value
        return await self._technician(data.company_ids, data.account_id, data.technician_id, state, data.sequence)

    async def technician_unavailable(self, event: Envelope[TechnicianUnavailable]) -> bool:
        data = event.data
        state = UNAVAILABLE_AS[data.reason].value
        return await self._technician(data.company_ids, data.account_id, data.technician_id, state, data.sequence)

    async def summary(self, company_id: str, *, today: date | None = None) -> dict[str, Any]:
        """Today's figures and the last 7 days' (today included), per UTC day too (for charts)."""
        today = today or datetime.now(UTC).date()
        week = days_back(today, WEEK)
        buckets = {bucket["day"]: bucket for bucket in await self.days.days(company_id, week)}
        return {
            "company_id": company_id,
            "today": figures([buckets.get(today.isoformat(), {})]).as_dict(),
            "last_7_days": figures(buckets.values()).as_dict(),
            "by_day": [{"day": d.isoformat(), **figures([buckets.get(d.isoformat(), {})]).as_dict()} for d in week],
            "live": live_view(await self.live.get(company_id) if self.live else None, datetime.now(UTC)),
        }

    async def forget_old_days(self, *, today: date | None = None) -> int:
        today = today or datetime.now(UTC).date()
        return await self.days.forget(days_back(today, RETENTION_DAYS)[0])

    async def prune_live(self) -> int:
        return await self.live.prune(datetime.now(UTC)) if self.live else 0
