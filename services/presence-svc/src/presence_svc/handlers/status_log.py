"""The shown state (`available` or why not), since when, and its history.

Each change of the shown state is recorded once across replicas: it rides in the
reconciliation's one write on the technician (`PresenceHandlers`), conditional on their
`shown` as read, with the day of history it opens, if any; only the winner appends the
history entry. The history is a side record: if appending fails the state is still right,
and the failure is logged.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime

from presence_svc.adapters.status_history import StatusHistoryRepository
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.domain.availability import Technician
from presence_svc.domain.errors import UnknownAccountTechnician
from presence_svc.domain.status_history import Actor, Cursor, Page, ShownChange, StatusEntry, paginate
from servicekit.logging import get_logger

log = get_logger(__name__)


class StatusLog:
    def __init__(
        self,
        technicians: TechnicianRepository,
        history: StatusHistoryRepository,
        *,
        keep_days: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.technicians = technicians
        self.history = history
        self.keep_days = keep_days
        self.clock = clock

    def change(self, technician: Technician, shown: str) -> ShownChange | None:
        """The change to record if the technician's shown state is now `shown` (None: none)."""
        if technician.shown == shown:
            return None
        at = self.clock()
        day = at.astimezone(UTC).date().isoformat()
        known_days = technician.history_days
        return ShownChange(technician.shown, shown, at, None if known_days is not None and day in known_days else day)

    async def recorded(self, technician_id: str, change: ShownChange, actor: Actor, actor_id: str | None) -> None:
        """`change` was recorded (by this call alone): its history entry."""
        entry = StatusEntry(change.at, change.after, actor, actor_id)
        try:
            await self.history.append(technician_id, entry)
        except Exception as error:  # the state itself is stored; only its history line is lost
            log.warning("status history not recorded", technician_id=technician_id, error=str(error))

    async def page(self, account_id: str, technician_id: str, cursor: str | None, limit: int) -> Page:
        """A page of the technician's history, newest first, for an admin of their account."""
        start = Cursor.decode(cursor) if cursor else None
        found = await self.technicians.history_days(technician_id)
        if found is None or found[0] != account_id:
            raise UnknownAccountTechnician()
        days = sorted((date.fromisoformat(d) for d in found[1]), reverse=True)
        loaded: dict[date, list[StatusEntry]] = {}
        gathered = 0
        for day in days:
            if start is not None and day > start.day:
                continue
            # Read day by day (each by `_id`) until the page and one more entry are known.
            loaded[day] = await self.history.day(technician_id, day)
            gathered += len(loaded[day]) - (start.skip if start is not None and day == start.day else 0)
            if gathered > limit:
                break
        return paginate(days, loaded, start, limit)
