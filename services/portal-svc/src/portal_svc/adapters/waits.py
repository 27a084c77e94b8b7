"""A company's recent chat durations, for the queue's estimated wait.

They are the handling samples the dashboard's day buckets keep anyway (`adapters.dashboard`,
counted when a request finishes): today's and yesterday's bucket, one `find` by `_id`, the
newest `sample_size` of them. Nothing is written for the estimate alone.
"""

from datetime import UTC, date, datetime

from portal_svc.adapters.dashboard import DashboardRepository
from portal_svc.domain.dashboard import days_back
from portal_svc.domain.waits import newest_handling

DAYS = 2
"""Today and yesterday: a company's first chats after midnight still have an estimate."""


class WaitRepository:
    def __init__(self, days: DashboardRepository, *, sample_size: int) -> None:
        self._days = days
        self._size = sample_size

    async def recent_handling(self, company_id: str, *, today: date | None = None) -> list[float]:
        recent = days_back(today or datetime.now(UTC).date(), DAYS)
        return newest_handling(await self._days.days(company_id, recent, fields=("handling",)), self._size)
