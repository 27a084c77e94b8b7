"""A technician's status history: who changed their state, when and why.

History grows without bound, so it lives apart from the live technician documents: one
bucket document per technician and UTC day (`_id` = `<technician>:<YYYY-MM-DD>`), appended
to and read by `_id` only, and deleted after the retention. Pages walk the buckets newest
first; a cursor names the day and how many of its newest entries were already shown.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from presence_svc.domain.errors import InvalidCursor


class Actor(StrEnum):
    TECHNICIAN = "technician"
    """The technician chose a status."""
    ADMIN = "admin"
    """An admin's change (access, a portal) caused it."""
    SYSTEM = "system"
    """presence-svc itself: lost connection, missed requests, reconnection."""


@dataclass(frozen=True)
class StatusEntry:
    at: datetime
    state: str
    """`available`, or the reason they are not (chosen, disconnected, missed_requests, access_revoked)."""
    actor: Actor
    actor_id: str | None = None
    """The technician or admin, when a person did it."""

    def as_dict(self) -> dict[str, object]:
        return {"at": self.at, "state": self.state, "actor": self.actor.value, "actor_id": self.actor_id}


@dataclass(frozen=True)
class ShownChange:
    """The shown state of a technician changing from `before` to `after` at `at`."""

    before: str | None
    after: str
    at: datetime
    new_day: str | None
    """The day (ISO) of `at`, when it is not yet among the technician's history days."""


def bucket_id(technician_id: str, day: date) -> str:
    return f"{technician_id}:{day.isoformat()}"


@dataclass(frozen=True)
class Cursor:
    day: date
    skip: int
    """Entries of `day` (newest first) already returned."""

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{self.day.isoformat()}|{self.skip}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, raw: str) -> "Cursor":
        try:
            text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
            day, skip = text.split("|")
            cursor = cls(date.fromisoformat(day), int(skip))
        except (ValueError, binascii.Error, UnicodeDecodeError) as error:
            raise InvalidCursor() from error
        if cursor.skip < 0:
            raise InvalidCursor()
        return cursor


@dataclass(frozen=True)
class Page:
    entries: list[StatusEntry]
    next_cursor: str | None


def paginate(days: list[date], read_day: dict[date, list[StatusEntry]], start: Cursor | None, limit: int) -> Page:
    """One page, newest first, from the days (newest first) and their entries (oldest first,
    as appended). `read_day` holds at least the days this page needs."""
    entries: list[StatusEntry] = []
    for day in days:
        if start is not None and day > start.day:
            continue
        newest_first = list(reversed(read_day.get(day, [])))
        skip = start.skip if start is not None and day == start.day else 0
        for index in range(skip, len(newest_first)):
            if len(entries) == limit:
                return Page(entries, Cursor(day, index).encode())
            entries.append(newest_first[index])
    return Page(entries, None)
