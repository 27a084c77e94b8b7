"""Technicians as dispatch sees them: access, availability, capacity and round robin.

Two sources feed a technician, each ordered by its own counter, and neither overwrites the
other's fields:
- `TechnicianUpdated` (the admin's record, ordered by `revision`): `company_ids`, `capacity`,
  `enabled`. Until dispatch has heard it once, presence's values stand in for it.
- presence's `TechnicianAvailable`/`TechnicianUnavailable` (ordered by `sequence`):
  `available` and `available_for` (the companies presence routes them for).
A technician is routable for a company only when both agree, so an availability built
before an access removal cannot restore the removed company or the old capacity.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Technician = Mapping[str, Any]


def admin_known(technician: Technician) -> bool:
    return "revision" in technician


def may_serve(technician: Technician | None, company_id: str) -> bool:
    """Access by current state: the technician is enabled and has the company now."""
    if technician is None:
        return False
    return bool(technician.get("enabled", True)) and company_id in technician.get("company_ids", [])


def accessible_companies(technician: Technician | None, claimed: Iterable[str]) -> list[str]:
    """Companies the technician may act for: those the token claims that the record still
    grants (a technician dispatch knows nothing of yet is taken at the token's word)."""
    claimed = list(claimed)
    if technician is None:
        return claimed
    if not technician.get("enabled", True):
        return []
    return [c for c in claimed if c in technician.get("company_ids", [])]


def routable_for(technician: Technician, company_id: str) -> bool:
    return (
        may_serve(technician, company_id)
        and bool(technician.get("available"))
        and company_id in technician.get("available_for", technician.get("company_ids", []))
    )


def has_spare_capacity(technician: Technician) -> bool:
    return len(technician.get("active", [])) < technician.get("capacity", 0)


def holds_slot_for(technician: Technician, request_id: str) -> bool:
    return request_id in technician.get("active", [])


def claim_slot(technician: Technician, request_id: str) -> Technician | None:
    """The technician after taking one slot for `request_id`, or None when that is not
    allowed (full, disabled, or already held for it). The repository's conditional update
    is this rule written as a MongoDB filter (`slot_filter`)."""
    if not technician.get("enabled", True) or holds_slot_for(technician, request_id):
        return None
    if not has_spare_capacity(technician):
        return None
    return {**technician, "active": [*technician.get("active", []), request_id]}


def release_slot(technician: Technician, request_id: str) -> Technician:
    return {**technician, "active": [r for r in technician.get("active", []) if r != request_id]}


def slot_filter(technician_id: str, request_id: str) -> dict[str, Any]:
    """`claim_slot` as a filter: matches only while fewer than `capacity` slots are held (the
    capacity stored now, so a claim needs no read of the technician first)."""
    return {
        "_id": technician_id,
        "enabled": True,
        "active": {"$ne": request_id},
        "$expr": {"$lt": [{"$size": "$active"}, "$capacity"]},
    }


def round_robin(technicians: Iterable[Technician], *, passed_over: Iterable[str] = ()) -> list[Technician]:
    """Technicians with spare capacity, the one whose last assignment is oldest first.

    Ties go by id so that every worker computes the same order. A technician who just let
    the request lapse comes last, so the request goes "to the next technician".
    """
    skipped = set(passed_over)
    return sorted(
        (t for t in technicians if has_spare_capacity(t)),
        key=lambda t: (t["_id"] in skipped, t.get("last_assigned_at") or EPOCH, t["_id"]),
    )
