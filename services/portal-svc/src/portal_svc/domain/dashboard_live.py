"""The supervisor dashboard's live state of one company, pure: what the desk looks like now.

ONE document per company (`_id` = the company), changed by events only: an entry per live
request under `requests.<id>` and per technician under `technicians.<id>`, so the document
holds what is live now, never history. Events arrive late, twice and out of order, so every
entry carries an order key and a write applies only when its key is greater than the stored
one (one conditional update). A finished request leaves a small tombstone (its key is the
highest) so that a late "queued" cannot bring it back; tombstones are pruned after
`TOMBSTONE_KEEP`, far longer than any redelivery takes.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from contracts.vocabulary import UnavailableReason


class Stage(StrEnum):
    WAITING = "waiting"
    """Submitted: dispatch has not said anything yet."""
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    CHAT = "chat"
    DONE = "done"


# A request's moves come in tiers: submission, dispatch's moves (which may go back and forth,
# so among them the event time decides, as in `domain.requests`), the chat, the end.
_TIER = {Stage.WAITING: 1, Stage.QUEUED: 2, Stage.OFFERED: 2, Stage.ASSIGNED: 2, Stage.CHAT: 3, Stage.DONE: 4}
_TIER_SPAN = 10**13
"""Wider than any epoch in milliseconds: tier first, then time (exact in a double)."""
TOMBSTONE_KEEP = timedelta(minutes=30)
WAITING = frozenset({Stage.WAITING, Stage.QUEUED, Stage.OFFERED, Stage.ASSIGNED})
"""The customer is still waiting: no chat yet (an assignment opens the chat in a moment)."""


def as_utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def order_key(stage: Stage, at: datetime) -> int:
    """Orders a request's moves: a higher tier always wins; within a tier the later event."""
    return _TIER[stage] * _TIER_SPAN + int(as_utc(at).timestamp() * 1000)


class TechnicianState(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"
    PAUSED = "paused"
    """Set unavailable by presence-svc after missed requests."""
    REMOVED = "removed"


UNAVAILABLE_AS = {
    UnavailableReason.CHOSEN: TechnicianState.AWAY,
    UnavailableReason.DISCONNECTED: TechnicianState.OFFLINE,
    UnavailableReason.MISSED_REQUESTS: TechnicianState.PAUSED,
    UnavailableReason.ACCESS_REVOKED: TechnicianState.REMOVED,
}
SHOWN_STATES = (TechnicianState.AVAILABLE, TechnicianState.AWAY, TechnicianState.PAUSED, TechnicianState.OFFLINE)


def live_view(doc: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    """The tiles: requests waiting and the oldest wait, offers out, chats active, technicians
    by state (and how many of them are in a chat)."""
    requests = [entry for entry in (doc or {}).get("requests", {}).values() if entry.get("stage") != Stage.DONE]
    waiting = [entry for entry in requests if entry["stage"] in WAITING]
    chats = [entry for entry in requests if entry["stage"] == Stage.CHAT]
    oldest = min((as_utc(entry["since"]) for entry in waiting if entry.get("since")), default=None)
    technicians = (doc or {}).get("technicians", {}).values()
    by_state = {state.value: 0 for state in SHOWN_STATES}
    for technician in technicians:
        if technician.get("state") in by_state:
            by_state[technician["state"]] += 1
    return {
        "requests_waiting": len(waiting),
        "oldest_wait_seconds": round((as_utc(now) - oldest).total_seconds()) if oldest else None,
        "offers_out": sum(1 for entry in waiting if entry["stage"] == Stage.OFFERED),
        "chats_active": len(chats),
        "technicians": by_state,
        "technicians_in_chat": len({entry["technician_id"] for entry in chats if entry.get("technician_id")}),
    }


def stale_tombstones(doc: Mapping[str, Any], now: datetime) -> list[str]:
    """Ids of the finished requests whose tombstone is older than `TOMBSTONE_KEEP`."""
    cutoff = as_utc(now) - TOMBSTONE_KEEP
    return [
        request_id
        for request_id, entry in doc.get("requests", {}).items()
        if entry.get("stage") == Stage.DONE and as_utc(entry["at"]) < cutoff
    ]
