"""When a technician is available for routing, and which event says so.

Effective availability = chose Available, still has access (enabled, at least one of their
companies has an active portal) and is live: connected, or inside the grace period after
the last connection dropped. Routing (dispatch-svc, portal-svc) only ever hears about
changes of that, each exactly once, numbered by a per-technician `sequence`.
"""

from collections.abc import Collection
from dataclasses import dataclass
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

    @property
    def effective(self) -> bool:
        return self.published is not None

    def has_status_menu(self, portal_companies: Collection[str]) -> bool:
        """The menu exists once a company the technician can access has a portal."""
        return self.enabled and any(c in portal_companies for c in self.company_ids)

    def can_see_company(self, account_id: str, company_id: str) -> bool:
        return self.enabled and self.account_id == account_id and company_id in self.company_ids


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
        return UnavailableReason.CHOSEN
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
