"""Inviting a colleague to join a chat: who may invite whom, and the steps of an invitation.

It mirrors a transfer (`domain.transfer`): a pending `invitation` (to, from, note, expiry)
lives on the request, so inviting, declining, lapsing and joining are each one conditional
write by `_id`, staged with the event it causes. The chat stays its technician's; a colleague
who joins becomes one of its `guests` (id, name, when their slot was claimed) and holds a
capacity slot for it until they leave or the chat ends. `guest_seq` numbers every join and
leave, so readers of the events (chat-svc) can order one colleague's join and leave, which
travel on different queues.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts import (
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
    RequestTransferLapsed,
)
from contracts.vocabulary import GuestLeftReason, TransferLapseReason
from dispatch_svc.domain.errors import AlreadyInChat, ChatFull, NotYourChatToShare
from dispatch_svc.domain.request import FINISHED, Change, Command, State, guest_ids, next_state
from dispatch_svc.domain.transfer import (
    about,
    colleague_refusal,
    holder_refusal,
    lapsed_event,
    name_of,
    pending,
)
from servicekit.exceptions import DomainError

Request = Mapping[str, Any]
Technician = Mapping[str, Any]


def technicians_in(request: Request) -> int:
    """Technicians in the chat: its technician and every guest."""
    return 1 + len(guest_ids(request))


def refusal(
    request: Request, me: str, colleague: Technician | None, now: datetime, *, max_technicians: int
) -> DomainError | None:
    """Why `me` may not invite `colleague` into `request`'s chat now (None: they may)."""
    if (held := holder_refusal(request, me, now, NotYourChatToShare())) is not None:
        return held
    if colleague is not None and (colleague["_id"] == me or colleague["_id"] in guest_ids(request)):
        return AlreadyInChat(name_of(colleague))
    if technicians_in(request) >= max_technicians:
        return ChatFull(max_technicians)
    return colleague_refusal(request, colleague)


def is_guest(request: Request, technician_id: str) -> bool:
    return request.get("state") == State.ASSIGNED and technician_id in guest_ids(request)


def guest(request: Request, technician_id: str) -> Mapping[str, Any] | None:
    return next((g for g in request.get("guests", []) if g["technician_id"] == technician_id), None)


def invite(
    request: Request, me: Technician, colleague: Technician, note: str, at: datetime, expires_at: datetime
) -> Change:
    """A pending invitation; an expired transfer or invitation still on the request is
    replaced by the same write (the caller stages its lapse)."""
    invitation = {
        "from": me["_id"],
        "from_name": name_of(me, ""),
        "to": colleague["_id"],
        "to_name": name_of(colleague, ""),
        "note": note,
        "offered_at": at,
        "expires_at": expires_at,
    }
    state = next_state(request["state"], Command.INVITE)
    unset = ("transfer",) if pending(request) is not None else ()
    return Change(Command.INVITE, {"state": state, "invitation": invitation}, unset=unset)


def drop(request: Request) -> Change:
    return Change(
        Command.DROP_INVITATION,
        {"state": next_state(request["state"], Command.DROP_INVITATION)},
        unset=("invitation",),
    )


def join(request: Request, at: datetime) -> Change:
    """The invited colleague's slot was claimed at `at`: that date names it, as `assign` does."""
    state = next_state(request["state"], Command.JOIN)
    invitation = request["invitation"]
    joined = {
        "technician_id": invitation["to"],
        "name": invitation.get("to_name", ""),
        "joined_at": at,
        "invited_by": invitation["from"],
    }
    return Change(
        Command.JOIN,
        {
            "state": state,
            "guests": [*request.get("guests", []), joined],
            "guest_seq": int(request.get("guest_seq", 0)) + 1,
        },
        unset=("invitation",),
    )


def leave(request: Request, technician_id: str) -> Change:
    state = next_state(request["state"], Command.LEAVE)
    remaining = [g for g in request.get("guests", []) if g["technician_id"] != technician_id]
    return Change(
        Command.LEAVE, {"state": state, "guests": remaining, "guest_seq": int(request.get("guest_seq", 0)) + 1}
    )


def needs_closing(request: Request) -> bool:
    """A finished request still carrying a pending hand-over or guests (their slots held)."""
    return request.get("state") in FINISHED and bool(
        request.get("transfer") or request.get("invitation") or request.get("guests")
    )


def close(request: Request) -> Change:
    """The chat is over: a pending transfer or invitation is dropped and the guests let go
    (kept as `former_guests` for the record)."""
    guests = list(request.get("guests", []))
    return Change(
        Command.CLOSE_HANDOVERS,
        {
            "state": next_state(request["state"], Command.CLOSE_HANDOVERS),
            "guests": [],
            "former_guests": [*request.get("former_guests", []), *guests],
            "guest_seq": int(request.get("guest_seq", 0)) + len(guests),
        },
        unset=("transfer", "invitation"),
    )


def closed_events(
    request: Request,
) -> list[RequestTransferLapsed | RequestInvitationLapsed | RequestColleagueLeft]:
    """What `close(request)` tells: the lapse of what was pending, every guest's leaving."""
    events: list[RequestTransferLapsed | RequestInvitationLapsed | RequestColleagueLeft] = []
    if request.get("transfer"):
        events.append(lapsed_event(request, TransferLapseReason.CHAT_ENDED))
    if request.get("invitation"):
        events.append(lapsed(request, TransferLapseReason.CHAT_ENDED))
    sequence = int(request.get("guest_seq", 0))
    for number, left in enumerate(request.get("guests", []), start=1):
        events.append(
            RequestColleagueLeft(
                **about(request),
                technician_id=left["technician_id"],
                name=left.get("name", ""),
                reason=GuestLeftReason.CHAT_ENDED,
                sequence=sequence + number,
                technicians=0,
            )
        )
    return events


def invited_event(request: Request, change: Change) -> RequestColleagueInvited:
    invitation = change.set["invitation"]
    return RequestColleagueInvited(
        **about(request),
        from_technician_id=invitation["from"],
        from_name=invitation["from_name"],
        to_technician_id=invitation["to"],
        to_name=invitation["to_name"],
        customer_name=request["customer_name"],
        description=request.get("description", ""),
        note=invitation["note"],
        assignment=int(request.get("assignment", 1)),
        expires_at=invitation["expires_at"],
    )


def joined_event(request: Request, change: Change) -> RequestColleagueJoined:
    joined = change.set["guests"][-1]
    return RequestColleagueJoined(
        **about(request),
        technician_id=joined["technician_id"],
        name=joined["name"],
        invited_by=joined["invited_by"],
        joined_at=joined["joined_at"],
        sequence=change.set["guest_seq"],
        technicians=1 + len(change.set["guests"]),
    )


def left_event(request: Request, change: Change, technician_id: str) -> RequestColleagueLeft:
    gone = guest(request, technician_id) or {}
    return RequestColleagueLeft(
        **about(request),
        technician_id=technician_id,
        name=gone.get("name", ""),
        reason=GuestLeftReason.LEFT,
        sequence=change.set["guest_seq"],
        technicians=1 + len(change.set["guests"]),
    )


def lapsed(request: Request, reason: TransferLapseReason) -> RequestInvitationLapsed:
    invitation = request["invitation"]
    return RequestInvitationLapsed(
        **about(request),
        from_technician_id=invitation["from"],
        to_technician_id=invitation["to"],
        to_name=invitation.get("to_name", ""),
        reason=reason,
    )
