"""When a technician is available for routing, and which event says so.

Effective availability = chose Available, still has access (enabled, at least one of their
companies has an active portal) and is live: connected, or inside the grace period after
the last connection dropped. Routing (dispatch-svc, portal-svc) only ever hears about
changes of that, each exactly once, numbered by a per-technician `sequence`.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from contracts.vocabulary import UnavailableReason


class ChosenStatus(StrEnum):
    AVAILABLE = "available"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Routing:
    """What routing believes about an available technician (None when unavailable)."""

    company_ids: tuple[str, ...]
    capacity: int
    display_name: str


@dataclass(frozen=True)
class Lease:
    """One replica's hold on a technician: their sockets there, and until when it vouches for
    them. The replica renews `until` while it holds sockets; when its last socket closes it
    sets `until` to that moment, so the grace period runs from then. A replica that dies
    stops renewing, and its lease simply runs out."""

    until: datetime
    sockets: int


@dataclass(frozen=True)
class Technician:
    technician_id: str
    account_id: str
    display_name: str
    company_ids: tuple[str, ...]
    capacity: int
    enabled: bool
    chosen: ChosenStatus
    sequence: int
    published: Routing | None
    leases: Mapping[str, Lease] = field(default_factory=dict)
    """Per replica (any number of presence-svc processes share the technicians)."""
    chosen_reason: UnavailableReason = UnavailableReason.CHOSEN
    """Why `chosen` is Unavailable: the technician's choice, or presence-svc after missed
    requests (the technician must choose Available again either way)."""
    missed: int = 0
    """Offers / Queue assignments in a row that lapsed unanswered."""
    chats_open: int = 0
    """Requests assigned to them whose chat has not ended."""
    since: datetime | None = None
    """When the state shown on the roster (available, or unavailable for a reason) began."""
    shown: str | None = None
    """That state as last recorded (`available` or the reason), to notice changes."""
    history_days: tuple[str, ...] | None = None
    """The days (ISO) that have a status history bucket, when read (None: not read)."""

    @property
    def effective(self) -> bool:
        return self.published is not None

    def connected(self, now: datetime) -> bool:
        """Some replica holds a socket of theirs and its lease has not run out."""
        return any(lease.until > now and lease.sockets > 0 for lease in self.leases.values())

    def live(self, now: datetime, grace: timedelta) -> bool:
        """Connected, or the last lease ended less than the grace period ago (a clean
        disconnect ends it at once, a dead replica's when it runs out)."""
        return any(lease.until + grace > now for lease in self.leases.values())

    def sockets(self, now: datetime) -> int:
        return sum(lease.sockets for lease in self.leases.values() if lease.until > now)

    def stale_leases(self, now: datetime, grace: timedelta) -> dict[str, datetime]:
        """Replicas whose lease no longer counts for anything (to be forgotten), with the
        end of that lease as read."""
        return {replica: lease.until for replica, lease in self.leases.items() if lease.until + grace <= now}

    def has_status_menu(self, portal_companies: Collection[str]) -> bool:
        """The menu exists once a company the technician can access has a portal."""
        return self.enabled and any(c in portal_companies for c in self.company_ids)

    def can_see_company(self, account_id: str, company_id: str) -> bool:
        return self.enabled and self.account_id == account_id and company_id in self.company_ids


def choosing(technician: Technician, chosen: ChosenStatus) -> Technician:
    """The technician once they chose `chosen` themselves (which ends a missed-requests stop;
    choosing Available is their answer: the streak starts again)."""
    missed = 0 if chosen is ChosenStatus.AVAILABLE else technician.missed
    return replace(technician, chosen=chosen, chosen_reason=UnavailableReason.CHOSEN, missed=missed)


@dataclass(frozen=True)
class BecameAvailable:
    routing: Routing
    sequence: int


@dataclass(frozen=True)
class BecameUnavailable:
    company_ids: tuple[str, ...]
    reason: UnavailableReason
    sequence: int


Change = BecameAvailable | BecameUnavailable


def desired(
    technician: Technician, *, live: bool, active_portal_companies: Collection[str]
) -> Routing | UnavailableReason:
    concerned = tuple(c for c in technician.company_ids if c in active_portal_companies)
    if not technician.enabled or not concerned:
        return UnavailableReason.ACCESS_REVOKED
    if technician.chosen is not ChosenStatus.AVAILABLE:
        return technician.chosen_reason
    if not live:
        return UnavailableReason.DISCONNECTED
    return Routing(concerned, technician.capacity, technician.display_name)


def next_change(technician: Technician, *, live: bool, active_portal_companies: Collection[str]) -> Change | None:
    """The one event that brings routing up to date, or None when it already is.

    An available technician whose companies, capacity or name changed is announced again
    (a fresh TechnicianAvailable supersedes the previous one by its higher sequence).
    """
    want = desired(technician, live=live, active_portal_companies=active_portal_companies)
    if isinstance(want, Routing):
        if technician.published == want:
            return None
        return BecameAvailable(want, technician.sequence + 1)
    if technician.published is None:
        return None
    return BecameUnavailable(technician.published.company_ids, want, technician.sequence + 1)


def shown_state(technician: Technician, *, live: bool, active_portal_companies: Collection[str]) -> str:
    """What the status menu and the roster show: `available`, or why not (a reason)."""
    want = desired(technician, live=live, active_portal_companies=active_portal_companies)
    return "available" if isinstance(want, Routing) else want.value
