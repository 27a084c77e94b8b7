"""The request aggregate: its states, and which state may follow which, on which command.

A request document is changed only through the change builders below; each one asks the
transition table first, so an illegal step (a second assignment, routing a finished
request) is refused here, before any write. Repositories apply a change as one write
guarded by the revision the request was read at (optimistic concurrency).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class State(StrEnum):
    NEW = "new"
    """Stored, not routed yet (a crash here is repaired by the sweeper)."""
    QUEUED = "queued"
    """Queue mode: waiting, FIFO per company by `queued_since`."""
    OFFERED = "offered"
    """Web mode: offered to `offered_to` (possibly nobody yet); the first accept wins."""
    ASSIGNED = "assigned"
    """Belongs to `technician_id`, which holds one capacity slot for it (claimed at `assigned_at`)."""
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class Command(StrEnum):
    QUEUE = "queue"
    OFFER = "offer"
    """Offer (again) to technicians: a first offer, one more technician, a renewed offer."""
    WITHDRAW = "withdraw"
    """Withdraw an open offer from some technicians."""
    ASSIGN = "assign"
    ACKNOWLEDGE = "acknowledge"
    REQUEUE = "requeue"
    """An unacknowledged Queue assignment goes back to the head of the queue."""
    COMPLETE = "complete"
    CANCEL = "cancel"
    REJECT = "reject"
    FENCE = "fence"
    """Bump the revision only, so that a claim still in flight can no longer land."""
    OFFER_TRANSFER = "offer_transfer"
    """The chat's technician asks a colleague to take the request (`domain.transfer`)."""
    DROP_TRANSFER = "drop_transfer"
    """A pending transfer ends without a transfer (declined, expired, withdrawn)."""
    TRANSFER = "transfer"
    """The colleague accepted: the request is theirs, under a new assignment number."""
    REOFFER = "reoffer"
    """Web mode: the chat's technician sends the request back, to be offered to the others."""
    INVITE = "invite"
    """The chat's technician invites a colleague to join the chat (`domain.invitation`)."""
    DROP_INVITATION = "drop_invitation"
    """A pending invitation ends without the colleague joining (declined, expired)."""
    JOIN = "join"
    """The invited colleague joined: one more guest of the chat."""
    LEAVE = "leave"
    """A guest left the chat."""
    CLOSE_HANDOVERS = "close_handovers"
    """A finished request's leftovers: a pending transfer or invitation dropped, its guests
    let go (their slots are freed right after)."""


S, C = State, Command
TRANSITIONS: dict[tuple[State, Command], State] = {
    (S.NEW, C.QUEUE): S.QUEUED,
    (S.NEW, C.OFFER): S.OFFERED,
    (S.NEW, C.ASSIGN): S.ASSIGNED,
    (S.NEW, C.REJECT): S.REJECTED,
    (S.QUEUED, C.ASSIGN): S.ASSIGNED,
    (S.OFFERED, C.OFFER): S.OFFERED,
    (S.OFFERED, C.WITHDRAW): S.OFFERED,
    (S.OFFERED, C.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, C.ACKNOWLEDGE): S.ASSIGNED,
    (S.ASSIGNED, C.REQUEUE): S.QUEUED,
    (S.ASSIGNED, C.COMPLETE): S.COMPLETED,
    (S.ASSIGNED, C.OFFER_TRANSFER): S.ASSIGNED,
    (S.ASSIGNED, C.DROP_TRANSFER): S.ASSIGNED,
    (S.ASSIGNED, C.TRANSFER): S.ASSIGNED,
    (S.ASSIGNED, C.REOFFER): S.OFFERED,
    (S.ASSIGNED, C.INVITE): S.ASSIGNED,
    (S.ASSIGNED, C.DROP_INVITATION): S.ASSIGNED,
    (S.ASSIGNED, C.JOIN): S.ASSIGNED,
    (S.ASSIGNED, C.LEAVE): S.ASSIGNED,
    **{(state, C.CLOSE_HANDOVERS): state for state in (S.COMPLETED, S.CANCELLED)},
    **{(state, C.CANCEL): S.CANCELLED for state in (S.NEW, S.QUEUED, S.OFFERED, S.ASSIGNED)},
    **{(state, C.FENCE): state for state in State},
}
"""(state, command) -> the state after. Anything missing is illegal."""

FINISHED = frozenset({State.COMPLETED, State.CANCELLED, State.REJECTED})
"""Terminal states: such requests move to the history collection."""
CANCELLABLE = frozenset(state for (state, command) in TRANSITIONS if command is Command.CANCEL)


class IllegalTransition(Exception):
    def __init__(self, state: State, command: Command) -> None:
        super().__init__(f"a {state} request cannot {command}")
        self.state, self.command = state, command


def next_state(state: str, command: Command) -> State:
    after = TRANSITIONS.get((State(state), command))
    if after is None:
        raise IllegalTransition(State(state), command)
    return after


def allows(state: str, command: Command) -> bool:
    return (State(state), command) in TRANSITIONS


@dataclass(frozen=True)
class Change:
    """One step of a request: the fields it sets and unsets (the revision guard is the
    repository's)."""

    command: Command
    set: dict[str, Any]
    unset: tuple[str, ...] = field(default=())


def _change(
    request: Mapping[str, Any], command: Command, fields: dict[str, Any], unset: tuple[str, ...] = ()
) -> Change:
    return Change(command, {"state": next_state(request["state"], command), **fields}, unset)


def queue(request: Mapping[str, Any]) -> Change:
    return _change(request, Command.QUEUE, {})


def offer(request: Mapping[str, Any], technician_ids: list[str], expires_at: datetime) -> Change:
    return _change(request, Command.OFFER, {"offered_to": technician_ids, "offer_expires_at": expires_at})


def withdraw(request: Mapping[str, Any], remaining: list[str]) -> Change:
    return _change(request, Command.WITHDRAW, {"offered_to": remaining})


def assign(
    request: Mapping[str, Any],
    technician_id: str,
    at: datetime,
    *,
    acknowledged: bool,
    ack_within: timedelta | None = None,
    **extra: Any,
) -> Change:
    """`at` is also when the technician's slot was claimed: it names that very slot."""
    fields = {
        "technician_id": technician_id,
        "assigned_at": at,
        "assignment": assignment_number(request),
        "acknowledged": acknowledged,
        "offered_to": [],
        **extra,
    }
    if not acknowledged and ack_within is not None:
        fields["ack_deadline"] = at + ack_within
    return _change(request, Command.ASSIGN, fields, unset=("offer_expires_at",))


def assignment_number(request: Mapping[str, Any]) -> int:
    return int(request.get("assignment", 0)) + 1


def acknowledge(request: Mapping[str, Any]) -> Change:
    return _change(request, Command.ACKNOWLEDGE, {"acknowledged": True}, unset=("ack_deadline",))


def requeue(request: Mapping[str, Any]) -> Change:
    """Back to the head of the queue (`queued_since` is kept), the lapsed technician last."""
    state = next_state(request["state"], Command.REQUEUE)
    return Change(
        Command.REQUEUE,
        {"state": state, "passed_over": [request["technician_id"]]},
        unset=("technician_id", "assigned_at", "ack_deadline", "acknowledged"),
    )


def complete(request: Mapping[str, Any], at: datetime) -> Change:
    return _change(request, Command.COMPLETE, {"finished_at": at})


def cancel(request: Mapping[str, Any], at: datetime) -> Change:
    return _change(request, Command.CANCEL, {"finished_at": at})


def reject(request: Mapping[str, Any], at: datetime) -> Change:
    return _change(request, Command.REJECT, {"finished_at": at})


def fence(request: Mapping[str, Any], at: datetime) -> Change:
    return _change(request, Command.FENCE, {"fenced_at": at})


ASSIGNED_REQUEST: Mapping[str, Any] = {"state": State.ASSIGNED}
"""For a step applied to an assignment without reading it (the write's filter checks the state)."""


def guest_ids(request: Mapping[str, Any]) -> list[str]:
    """The colleagues invited into the chat who joined it (each holds a slot for it)."""
    return [guest["technician_id"] for guest in request.get("guests", [])]


def holds_slot(request: Mapping[str, Any], technician_id: str) -> bool:
    """Whether `request`, as stored, is the assignment that holds `technician_id`'s slot."""
    return request.get("technician_id") == technician_id and request.get("state") in (
        State.ASSIGNED,
        State.COMPLETED,
        State.CANCELLED,
    )


def fifo_key(request: Mapping[str, Any]) -> tuple[Any, str]:
    """Order of a company's line: who joined first (kept when put back), then the id."""
    return (request["queued_since"], request["_id"])


def ahead_of(request: Mapping[str, Any], waiting: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The requests of `waiting` (same company) that are in line before `request`."""
    mine = fifo_key(request)
    return [other for other in waiting if other["_id"] != request["_id"] and fifo_key(other) < mine]
