"""The supervisor dashboard, fed by events (never by reading other services' databases):
per company and UTC day the requests, waits, handling times, abandonment and satisfaction,
and the desk as it is now; the summary puts today, the last 7 days and the live state together.

A request's live state and figures are its own record in `requests`, which `RequestStatus`
moves on every dispatch and chat event: the dashboard writes nothing for those moves (it
only tells the sockets). Unfinished requests are counted from their records when the summary
is read; a request is counted into its day buckets once, when it finishes, from the record
its finishing move returned (read again only when that move did not apply here: a
redelivery, or the customer's own cancellation, applied when it was asked for). Ratings are
counted per event; technicians' states are the availability read model's, written by the
write each presence event makes there anyway.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from contracts import ChatSessionRated, Envelope, RequestSubmitted
from portal_svc.adapters.availability import AvailabilityRepository
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.dashboard import DashboardRepository
from portal_svc.adapters.mongo import Doc
from portal_svc.adapters.requests import RequestRepository
from portal_svc.domain.dashboard import RETENTION_DAYS, day_of, days_back, figures, request_figures, with_unfinished
from portal_svc.domain.dashboard_live import live_view
from portal_svc.domain.requests import FINISHED
from servicekit.auth import Principal, Role
from servicekit.exceptions import NotFound

WEEK = 7
VIEWERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
FINISHED_STATUSES = frozenset(status.value for status in FINISHED)

Changed = Callable[[str], Awaitable[None]]
"""Tells the dashboard sockets of a company (on every replica) that its figures moved."""


async def _nobody_watches(_company_id: str) -> None:
    return None


class Dashboard:
    def __init__(
        self,
        days: DashboardRepository,
        companies: CompanyRepository | None = None,
        availability: AvailabilityRepository | None = None,
        requests: RequestRepository | None = None,
        changed: Changed = _nobody_watches,
    ) -> None:
        self.days = days
        self.companies = companies
        self.availability = availability
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

    async def submitted(self, event: Envelope[RequestSubmitted]) -> None:
        """A new request waits: its record, stored before this event, is in the tiles already."""
        await self.changed(event.data.company_id)

    async def moved(self, event: Envelope[Any], request: Doc | None) -> bool:
        """A request moved (its record says how; None: the move did not apply)."""
        if request is not None:
            await self.changed(event.data.company_id)
        return request is not None

    async def finished(self, event: Envelope[Any], request: Doc | None) -> bool:
        """Count a finished request into its day buckets, once (keyed by the request: another
        finishing event of the same request counts nothing). `request` is the record its
        finishing move returned; None means the move did not apply here (a redelivery, perhaps
        after a crash between the move and the count), so the record is read."""
        if self.requests is None:
            return False
        moved_here = request is not None
        if request is None:
            request = await self.requests.get(event.data.request_id)
        if request is None or request.get("status") not in FINISHED_STATUSES:
            return False
        counted = False
        for day, share in request_figures(request).items():
            counted = (
                await self.days.record(
                    f"request:{request['_id']}",
                    company_id=request["company_id"],
                    account_id=request["account_id"],
                    day=day,
                    counts=share.counts,
                    samples=share.samples,
                )
                or counted
            )
        if counted or moved_here:
            await self.changed(request["company_id"])
        return counted

    async def rated(self, event: Envelope[ChatSessionRated]) -> bool:
        data = event.data
        counts = {"ratings": 1, "score_sum": data.score, f"score_{data.score}": 1}
        counted = await self.days.record(
            event.event_id,
            company_id=data.company_id,
            account_id=data.account_id,
            day=day_of(data.rated_at),
            counts=counts,
        )
        if counted:
            await self.changed(data.company_id)
        return counted

    async def technician_changed(self, event: Envelope[Any]) -> None:
        """A presence change the availability read model applied (its state is the tile's)."""
        for company_id in event.data.company_ids:
            await self.changed(company_id)

    async def summary(self, company_id: str, *, today: date | None = None) -> dict[str, Any]:
        """Today's figures and the last 7 days' (today included), per UTC day too (for charts)."""
        today = today or datetime.now(UTC).date()
        week = days_back(today, WEEK)
        # The records first: one that finishes between the two reads is then counted in its
        # bucket, never twice.
        unfinished = await self.requests.unfinished_of(company_id, FINISHED_STATUSES) if self.requests else []
        stored = {bucket["day"]: bucket for bucket in await self.days.days(company_id, week)}
        shown = {day.isoformat() for day in week}
        buckets = {day: bucket for day, bucket in with_unfinished(stored, unfinished).items() if day in shown}
        technicians = await self.availability.states_in(company_id) if self.availability else []
        return {
            "company_id": company_id,
            "today": figures([buckets.get(today.isoformat(), {})]).as_dict(),
            "last_7_days": figures(buckets.values()).as_dict(),
            "by_day": [{"day": d.isoformat(), **figures([buckets.get(d.isoformat(), {})]).as_dict()} for d in week],
            "live": live_view(unfinished, technicians, datetime.now(UTC)),
        }

    async def forget_old_days(self, *, today: date | None = None) -> int:
        today = today or datetime.now(UTC).date()
        return await self.days.forget(days_back(today, RETENTION_DAYS)[0])
