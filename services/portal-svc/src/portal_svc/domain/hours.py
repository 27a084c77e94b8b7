"""Business hours of a portal: a time zone, a weekly schedule and dated closures.

Pure rules: whether a portal is open at an instant, and when it opens next. A portal
without hours is always open (what every portal was before hours existed).

Rule for Queue requests waiting at closing time: they stay queued and are served. The
customer was accepted while the desk was open and has already waited; technicians still on
shift work the queue down, as a shop serves the people inside when it locks the door.
Closing only stops new requests (portal-svc refuses them, so dispatch is untouched); a
customer who prefers not to wait can cancel and leave a message.
"""

import datetime as dt
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from portal_svc.domain.errors import Invalid

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_CLOSURES = 100
DEFAULT_MAX_WAIT_SECONDS = 180
"""Portals created before the setting existed offer the message form after this long."""
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class Interval(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opens: str = Field(pattern=_HHMM, description="Local opening time, HH:MM (24-hour).")
    closes: str = Field(pattern=_HHMM, description="Local closing time, HH:MM; 24:00 means midnight.")

    @model_validator(mode="after")
    def _ordered(self) -> "Interval":
        if self.closes <= self.opens:
            raise ValueError(f"closing time {self.closes} must be after opening time {self.opens}")
        return self


class Closure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: dt.date = Field(description="A day the portal stays closed all day (local date), e.g. 2026-12-25.")
    note: str = Field(default="", max_length=100, description="Why, e.g. Christmas Day (shown to customers).")


class BusinessHours(BaseModel):
    """Hours as stored on the portal and accepted by the admin API."""

    model_config = ConfigDict(extra="forbid")
    time_zone: str = Field(description="IANA time zone the schedule is in, e.g. Europe/Paris.")
    weekly: dict[str, list[Interval]] = Field(
        description="Opening intervals per weekday (`mon` … `sun`); a missing or empty day is closed.",
    )
    closures: list[Closure] = Field(
        default_factory=list, max_length=MAX_CLOSURES, description="Dated closures (holidays)."
    )

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in _zones():
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris, America/New_York, UTC)")
        return value

    @field_validator("weekly")
    @classmethod
    def _days(cls, value: dict[str, list[Interval]]) -> dict[str, list[Interval]]:
        unknown = sorted(set(value) - set(DAYS))
        if unknown:
            raise ValueError(f"unknown weekday {', '.join(unknown)} (use mon, tue, wed, thu, fri, sat, sun)")
        for day, intervals in value.items():
            ordered = sorted(intervals, key=lambda i: i.opens)
            for before, after in pairwise(ordered):
                if after.opens < before.closes:
                    raise ValueError(
                        f"{day}: intervals {before.opens}-{before.closes} and {after.opens}-{after.closes} overlap"
                    )
            value[day] = ordered
        return value


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def parse_hours(raw: dict | None) -> BusinessHours | None:
    return None if raw is None else BusinessHours.model_validate(raw)


def _clock(text: str) -> time:
    return time(0, 0) if text == "24:00" else time.fromisoformat(text)


@dataclass(frozen=True)
class OpenState:
    open: bool
    next_open: datetime | None
    """When a closed portal opens again (aware, in the portal's zone); None if open or never."""
    closure_note: str = ""


def _zone(hours: BusinessHours) -> ZoneInfo:
    try:
        return ZoneInfo(hours.time_zone)
    except ZoneInfoNotFoundError as error:  # stored before a tzdata change removed it
        raise Invalid(f"unknown time zone {hours.time_zone!r}", code="invalid_hours") from error


def _intervals_on(hours: BusinessHours, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    if any(c.date == day for c in hours.closures):
        return []
    spans = []
    for interval in hours.weekly.get(DAYS[day.weekday()], []):
        start = datetime.combine(day, _clock(interval.opens), zone)
        end = (
            datetime.combine(day + timedelta(days=1), time(0, 0), zone)
            if interval.closes == "24:00"
            else datetime.combine(day, _clock(interval.closes), zone)
        )
        spans.append((start, end))
    return spans


def open_state(hours: BusinessHours | None, now: datetime) -> OpenState:
    """Open or closed at `now` (aware), and if closed, the next opening within a year."""
    if hours is None:
        return OpenState(open=True, next_open=None)
    zone = _zone(hours)
    local = now.astimezone(zone)
    today = local.date()
    note = next((c.note for c in hours.closures if c.date == today), "")
    for start, end in _intervals_on(hours, today, zone):
        if start <= local < end:
            return OpenState(open=True, next_open=None)
    for offset in range(0, 370):
        day = today + timedelta(days=offset)
        for start, _end in _intervals_on(hours, day, zone):
            if start > local:
                return OpenState(open=False, next_open=start, closure_note=note)
    return OpenState(open=False, next_open=None, closure_note=note)


def reopening_text(state: OpenState, now: datetime) -> str:
    """What a closed portal tells the customer, in the portal's local time."""
    reason = f"We are closed today ({state.closure_note})." if state.closure_note else "We are closed right now."
    if state.next_open is None:
        return f"{reason} You can leave us a message."
    when = state.next_open
    local_now = now.astimezone(when.tzinfo)
    clock = when.strftime("%H:%M")
    if when.date() == local_now.date():
        day = "today"
    elif when.date() == local_now.date() + timedelta(days=1):
        day = "tomorrow"
    else:
        day = f"on {DAY_NAMES[when.weekday()]} {when.day} {when.strftime('%B')}"
    return f"{reason} We open again {day} at {clock} ({when.tzinfo})."
