"""The supervisor dashboard's live state of one company, pure: what the desk looks like now.

Nothing here is written for the dashboard alone. The requests are portal-svc's own request
records (`domain.requests`), which follow every dispatch and chat event with one conditional
write each; a finished request leaves the tiles at once (and the live collection soon after).
The technicians are the availability read model's (one document per technician, its
company list from our own record, its presence `state` written with `available`, in the
write each presence event makes anyway, ordered by presence's sequence).
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from contracts.vocabulary import UnavailableReason
from portal_svc.domain.dashboard import as_utc
from portal_svc.domain.requests import WAITING as NOT_ASSIGNED
from portal_svc.domain.requests import Status

WAITING = frozenset(s.value for s in NOT_ASSIGNED | {Status.ASSIGNED})
"""The customer still waits: no chat yet (an assignment opens the chat in a moment)."""
OFFERED, CHAT = Status.OFFERED.value, Status.CHAT_OPEN.value


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


def live_view(
    requests: Iterable[Mapping[str, Any]], technicians: Iterable[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    """The tiles, from the company's unfinished request records and its technicians' states:
    requests waiting and the oldest wait, offers out, chats active, technicians by state (and
    how many of them are in a chat)."""
    live = list(requests)
    waiting = [doc for doc in live if doc.get("status") in WAITING]
    chats = [doc for doc in live if doc.get("status") == CHAT]
    oldest = min((since for doc in waiting if (since := waiting_since(doc)) is not None), default=None)
    by_state = {state.value: 0 for state in SHOWN_STATES}
    for technician in technicians:
        state = technician_state(technician)
        if state in by_state:
            by_state[state] += 1
    return {
        "requests_waiting": len(waiting),
        "oldest_wait_seconds": round((as_utc(now) - oldest).total_seconds()) if oldest else None,
        "offers_out": sum(1 for doc in waiting if doc["status"] == OFFERED),
        "chats_active": len(chats),
        "technicians": by_state,
        "technicians_in_chat": len({doc["technician_id"] for doc in chats if doc.get("technician_id")}),
    }


def technician_state(technician: Mapping[str, Any]) -> str | None:
    """The state presence last gave (a record written before states were kept says only
    whether the technician was available)."""
    state = technician.get("state")
    if state is None and technician.get("available"):
        return TechnicianState.AVAILABLE.value
    return state


def waiting_since(doc: Mapping[str, Any]) -> datetime | None:
    """When the customer started waiting: the submission (or an earlier queue time)."""
    times = [as_utc(doc[field]) for field in ("submitted_at", "queued_since") if isinstance(doc.get(field), datetime)]
    return min(times, default=None)
