"""Handing a chat over to a colleague: who may ask whom, and the steps of a pending transfer.

A pending transfer lives on the request itself (`transfer`: to, from, note, expiry), so
offering, declining, lapsing and accepting are each one conditional write by `_id`, staged
with the event it causes. The request stays ASSIGNED to the first technician (who keeps the
chat and their slot) until the colleague's acceptance moves both at once.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts import RequestReturnedToQueue, RequestTransferLapsed, RequestTransferOffered, RequestTransferred
from contracts.vocabulary import ConnectionMode, TransferLapseReason
from dispatch_svc.domain.errors import (
    AlreadyInChat,
    ColleagueFull,
    ColleaguesInChat,
    ColleagueUnavailable,
    InvitationPending,
    NoQueueInPhoneMode,
    NotAColleague,
    NotYourChat,
    TransferPending,
    TransferToYourself,
    UnacknowledgedTransfer,
)
from dispatch_svc.domain.request import Change, Command, State, assignment_number, guest_ids, next_state
from dispatch_svc.domain.technician import has_spare_capacity, may_serve, routable_for
from servicekit.exceptions import DomainError

Request = Mapping[str, Any]
Technician = Mapping[str, Any]

NOTE_MAX_CHARS = 500


def name_of(technician: Technician | None, fallback: str = "that technician") -> str:
    return str((technician or {}).get("display_name") or fallback)


def pending(request: Request) -> Mapping[str, Any] | None:
    """The transfer waiting for an answer (expired or not), if any."""
    transfer = request.get("transfer")
    return transfer if request.get("state") == State.ASSIGNED and transfer else None


def expired(transfer: Mapping[str, Any], now: datetime) -> bool:
    return bool(transfer["expires_at"] <= now)


def is_chat_of(request: Request, technician_id: str) -> bool:
    return request.get("state") == State.ASSIGNED and request.get("technician_id") == technician_id


def may_take(technician: Technician | None, company_id: str) -> bool:
    """A colleague who could take the chat now: serves the company, available, with room."""
    return technician is not None and routable_for(technician, company_id) and has_spare_capacity(technician)


def pending_invitation(request: Request) -> Mapping[str, Any] | None:
    """The invitation to join the chat waiting for an answer (expired or not), if any."""
    invitation = request.get("invitation")
    return invitation if request.get("state") == State.ASSIGNED and invitation else None


def holder_refusal(
    request: Request, me: str, now: datetime, not_yours: DomainError | None = None
) -> DomainError | None:
    """Why `me` may not hand `request` over at all now: not theirs, not acknowledged, or a
    hand-over (a transfer or an invitation: one at a time) already waiting for an answer."""
    if not is_chat_of(request, me):
        return not_yours or NotYourChat()
    if request.get("acknowledged") is False:
        return UnacknowledgedTransfer()
    waiting = pending(request)
    if waiting is not None and not expired(waiting, now):
        return TransferPending(waiting.get("to_name") or "a colleague")
    invited = pending_invitation(request)
    if invited is not None and not expired(invited, now):
        return InvitationPending(invited.get("to_name") or "a colleague")
    return None


def colleague_refusal(request: Request, colleague: Technician | None) -> DomainError | None:
    """Why `colleague` could not take (a part in) the chat now: not of the company,
    unavailable, or full."""
    if colleague is None or not may_serve(colleague, request["company_id"]):
        return NotAColleague()
    if not routable_for(colleague, request["company_id"]):
        return ColleagueUnavailable(name_of(colleague))
    if not has_spare_capacity(colleague):
        return ColleagueFull(name_of(colleague))
    return None


def refusal(request: Request, me: str, colleague: Technician | None, now: datetime) -> DomainError | None:
    """Why `me` may not offer `request` to `colleague` now (None: they may)."""
    if (held := holder_refusal(request, me, now)) is not None:
        return held
    if colleague is not None and colleague["_id"] == me:
        return TransferToYourself()
    # A guest already holds a slot for this request: the one slot claim per request and
    # technician could not give them a second (the chat's own).
    if colleague is not None and colleague["_id"] in guest_ids(request):
        return AlreadyInChat(name_of(colleague))
    return colleague_refusal(request, colleague)


def return_refusal(request: Request, me: str, now: datetime) -> DomainError | None:
    """Why `me` may not send `request` back to the company's technicians now."""
    if (held := holder_refusal(request, me, now)) is not None:
        return held
    if request["mode"] not in (ConnectionMode.QUEUE, ConnectionMode.WEB):
        return NoQueueInPhoneMode()
    # Guests hold slots for the request: routed again, one of them could be picked and
    # would need a second slot for it; they leave first.
    if guest_ids(request):
        return ColleaguesInChat()
    return None


RETURN_UNSETS = ("technician_id", "assigned_at", "ack_deadline", "acknowledged", "transfer", "transferred_from")


def return_to_line(request: Request, note: str, *, offered_to: list[str], expires_at: datetime) -> Change:
    """Back to the company: Queue mode to the head of the line (`queued_since` is kept) with
    this technician passed over; Web mode offered to `offered_to` until `expires_at`. The
    note waits on the request for whoever is assigned next."""
    command = Command.REQUEUE if request["mode"] == ConnectionMode.QUEUE else Command.REOFFER
    state = next_state(request["state"], command)
    me = request["technician_id"]
    fields: dict[str, Any] = {"handover_note": note, "returned_by": me, "passed_over": [me]}
    if command is Command.REOFFER:
        fields |= {"offered_to": offered_to, "offer_expires_at": expires_at}
    return Change(command, {"state": state, **fields}, unset=RETURN_UNSETS)


def returned_event(request: Request, from_name: str, note: str) -> RequestReturnedToQueue:
    return RequestReturnedToQueue(
        **about(request),
        from_technician_id=request["technician_id"],
        from_name=from_name,
        mode=request["mode"],
        note=note,
        assignment=int(request.get("assignment", 1)),
    )


def left_behind(request: Request, ended_by_technician: str) -> bool:
    """Whether a chat that ended under `ended_by_technician` left this request waiting for a
    next technician (sent back, or handed over before the chat heard of it): it must end too."""
    if request.get("state") in (State.QUEUED, State.OFFERED):
        return request.get("returned_by") == ended_by_technician
    handed_over = ended_by_technician in (request.get("returned_by"), request.get("transferred_from"))
    return (
        handed_over and request.get("state") == State.ASSIGNED and request.get("technician_id") != ended_by_technician
    )


def offer(
    request: Request, me: Technician, colleague: Technician, note: str, at: datetime, expires_at: datetime
) -> Change:
    """A transfer offer; an expired invitation still on the request is dropped by the same
    write (the caller stages its lapse)."""
    transfer = {
        "from": me["_id"],
        "from_name": name_of(me, ""),
        "to": colleague["_id"],
        "to_name": name_of(colleague, ""),
        "note": note,
        "offered_at": at,
        "expires_at": expires_at,
    }
    return Change(
        Command.OFFER_TRANSFER,
        {"state": next_state(request["state"], Command.OFFER_TRANSFER), "transfer": transfer},
        unset=("invitation",) if pending_invitation(request) is not None else (),
    )


def drop(request: Request) -> Change:
    return Change(
        Command.DROP_TRANSFER, {"state": next_state(request["state"], Command.DROP_TRANSFER)}, unset=("transfer",)
    )


def accept(request: Request, at: datetime) -> Change:
    """The colleague's slot was claimed at `at`: that date names it, as `assign` does."""
    state = next_state(request["state"], Command.TRANSFER)
    transfer = request["transfer"]
    return Change(
        Command.TRANSFER,
        {
            "state": state,
            "technician_id": transfer["to"],
            "assigned_at": at,
            "assignment": assignment_number(request),
            "acknowledged": True,
            "transferred_from": transfer["from"],
        },
        unset=("transfer", "ack_deadline"),
    )


def about(request: Request) -> dict[str, str]:
    return {"request_id": request["_id"], "account_id": request["account_id"], "company_id": request["company_id"]}


def offered_event(request: Request, change: Change) -> RequestTransferOffered:
    transfer = change.set["transfer"]
    return RequestTransferOffered(
        **about(request),
        from_technician_id=transfer["from"],
        from_name=transfer["from_name"],
        to_technician_id=transfer["to"],
        customer_name=request["customer_name"],
        description=request.get("description", ""),
        note=transfer["note"],
        assignment=int(request.get("assignment", 1)),
        expires_at=transfer["expires_at"],
    )


def transferred_event(request: Request, change: Change) -> RequestTransferred:
    transfer = request["transfer"]
    return RequestTransferred(
        **about(request),
        from_technician_id=transfer["from"],
        from_name=transfer.get("from_name", ""),
        to_technician_id=transfer["to"],
        to_name=transfer.get("to_name", ""),
        note=transfer.get("note", ""),
        assignment=change.set["assignment"],
        assigned_at=change.set["assigned_at"],
    )


def lapsed_event(request: Request, reason: TransferLapseReason) -> RequestTransferLapsed:
    transfer = request["transfer"]
    return RequestTransferLapsed(
        **about(request),
        from_technician_id=transfer["from"],
        to_technician_id=transfer["to"],
        to_name=transfer.get("to_name", ""),
        reason=reason,
    )
