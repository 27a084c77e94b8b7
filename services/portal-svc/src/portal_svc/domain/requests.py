"""The customer-visible life of a support request, driven by dispatch and chat events.

Events may arrive late, twice or out of order (several dispatch workers, redelivery), so
each status names the statuses it may follow; the adapter turns that into the filter of a
single conditional update. Dispatch's own moves (queued, offered, assigned) may go back and
forth — a Queue-mode assignment that was never acknowledged is queued again — so among
those the event time decides, and an older event never overwrites a newer one.
"""

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


def required_fields(portal_type: PortalType) -> tuple[str, ...]:
    """What each portal type's form must have, beyond the schema (checked all at once)."""
    if portal_type is PortalType.SMART_BOX:
        return ("customer_name", "description")
    if portal_type is PortalType.SMART_MATCH:
        return ("customer_name", "chosen_technician_id")
    return ("customer_name",)


def check_submission(
    mode: ConnectionMode,
    portal_type: PortalType,
    *,
    chosen_technician_id: str | None,
    connection_code: str | None,
    available_ids: set[str],
) -> None:
    """What the fields' values mean for this portal, once every field is well-formed."""
    if portal_type is not PortalType.SMART_PIN and connection_code:
        raise Invalid("this portal does not take connection codes", code="unexpected_field")
    if portal_type is PortalType.SMART_MATCH:
        if chosen_technician_id not in available_ids:
            raise Conflict(
                "the technician you chose is no longer available; please choose another",
                code="technician_unavailable",
            )
    elif chosen_technician_id:
        raise Invalid("this portal does not let you choose a technician", code="unexpected_field")
    if mode is ConnectionMode.WEB and not available_ids:
        raise Conflict("no technician is available right now; please try again later", code="no_technician")
