"""The customer-visible life of a support request, driven by dispatch and chat events.

Events may arrive late, twice or out of order (several dispatch workers, redelivery), so
each status names the statuses it may follow; the adapter turns that into the filter of a
single conditional update. Dispatch's own moves (queued, offered, assigned) may go back and
forth — a Queue-mode assignment that was never acknowledged is queued again — so among
those the event time decides, and an older event never overwrites a newer one.
"""

import re
from enum import StrEnum

from contracts.vocabulary import ConnectionMode, PortalType
from portal_svc.domain.errors import Conflict, Invalid


class Status(StrEnum):
    SUBMITTED = "submitted"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    CHAT_OPEN = "chat_open"
    ENDED = "ended"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


WAITING = frozenset({Status.SUBMITTED, Status.QUEUED, Status.OFFERED})
FINISHED = frozenset({Status.ENDED, Status.REJECTED, Status.CANCELLED})
"""Statuses nothing follows: such a request leaves the live collection for history."""
DISPATCH_MOVES = frozenset({Status.QUEUED, Status.OFFERED, Status.ASSIGNED})

# status -> the statuses it may replace
MAY_FOLLOW: dict[Status, frozenset[Status]] = {
    Status.QUEUED: WAITING | {Status.ASSIGNED},
    Status.OFFERED: WAITING,
    Status.ASSIGNED: WAITING | {Status.ASSIGNED},
    Status.REJECTED: WAITING,
    Status.CHAT_OPEN: WAITING | {Status.ASSIGNED},
    Status.ENDED: WAITING | {Status.ASSIGNED, Status.CHAT_OPEN},
    Status.CANCELLED: WAITING,
}

TEXT: dict[Status, str] = {
    Status.SUBMITTED: "Your request was received; we are finding a technician.",
    Status.QUEUED: "You are in the queue; a technician will be with you shortly.",
    Status.OFFERED: "Your request is being offered to our technicians.",
    Status.ASSIGNED: "A technician has taken your request; the chat opens in a moment.",
    Status.CHAT_OPEN: "Your chat with the technician is open.",
    Status.ENDED: "Your support session has ended. Thank you.",
    Status.REJECTED: "Your request could not be accepted.",
    Status.CANCELLED: "You cancelled this request.",
}


def ordered_by_time(status: Status) -> bool:
    """Whether a move to `status` must also be newer than the current status."""
    return status in DISPATCH_MOVES


def check_cancellable(current: Status) -> None:
    if current in MAY_FOLLOW[Status.CANCELLED]:
        return
    if current in {Status.ASSIGNED, Status.CHAT_OPEN}:
        raise Conflict(
            "a technician already has this request: end the chat instead of cancelling",
            code="already_assigned",
        )
    raise Conflict(f"the request is already {current.value}; it cannot be cancelled", code="not_cancellable")


_CODE = re.compile(r"^\d{9}$")


def check_submission(
    mode: ConnectionMode,
    portal_type: PortalType,
    *,
    description: str,
    chosen_technician_id: str | None,
    connection_code: str | None,
    available_ids: set[str],
) -> None:
    """Fields each portal type needs (the schema already bounded their lengths)."""
    if portal_type is PortalType.SMART_PIN:
        if not connection_code or not _CODE.fullmatch(connection_code):
            raise Invalid("connection_code must be the 9 digits your technician read out", code="invalid_code")
    elif connection_code:
        raise Invalid("this portal does not take connection codes", code="unexpected_field")
    if portal_type is PortalType.SMART_BOX and not description.strip():
        raise Invalid("please describe your problem (description is required)", code="description_required")
    if portal_type is PortalType.SMART_MATCH:
        if not chosen_technician_id:
            raise Invalid("choose one of the available technicians", code="technician_required")
        if chosen_technician_id not in available_ids:
            raise Conflict(
                "the technician you chose is no longer available; please choose another",
                code="technician_unavailable",
            )
    elif chosen_technician_id:
        raise Invalid("this portal does not let you choose a technician", code="unexpected_field")
    if mode is ConnectionMode.WEB and not available_ids:
        raise Conflict("no technician is available right now; please try again later", code="no_technician")
