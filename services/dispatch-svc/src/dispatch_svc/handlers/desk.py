"""What a technician does over HTTP: see their requests, accept one."""

import asyncio
from typing import Any

from contracts.vocabulary import ConnectionMode, WithdrawalReason
from servicekit.auth import Principal
from servicekit.logging import get_logger

from dispatch_svc.adapters.technicians import SlotClaim
from dispatch_svc.domain.errors import (
    AlreadyTaken,
    AtCapacity,
    NotAssignedToYou,
    NotOfferedToYou,
    NotYourCompany,
    RequestClosed,
    RequestNotFound,
)
from dispatch_svc.domain.states import State
from dispatch_svc.handlers import events
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.lifecycle import acknowledge
from dispatch_svc.handlers.routing import MAX_ATTEMPTS, Dispatch

log = get_logger(__name__)

Doc = dict[str, Any]

IN_FLIGHT_PAUSE = 0.05


async def my_requests(dispatch: Dispatch, principal: Principal) -> list[Doc]:
    """Open offers made to the technician and requests assigned to them."""
    found = await dispatch.requests.find(
        {
            "company_id": {"$in": principal.company_ids},
            "$or": [
                {"state": State.OFFERED, "offered_to": principal.subject},
                {"state": State.ASSIGNED, "technician_id": principal.subject},
            ],
        }
    )
    return sorted(found, key=lambda r: (r["submitted_at"], r["_id"]))


async def _visible(dispatch: Dispatch, principal: Principal, request_id: str) -> Doc:
    request = await dispatch.requests.get(request_id)
    if request is None:
        archived = await dispatch.requests.archived(request_id)
        if archived is None:
            raise RequestNotFound(request_id)
        if not principal.can_access_company(archived["company_id"]):
            raise NotYourCompany()
        raise RequestClosed(archived["state"])
    if not principal.can_access_company(request["company_id"]):
        raise NotYourCompany()
    return request


async def accept(dispatch: Dispatch, principal: Principal, request_id: str) -> Doc:
    """Web: the first accept wins. Queue: acknowledges the assignment. Phone: confirms it."""
    me = principal.subject
    for _ in range(MAX_ATTEMPTS):
        request = await _visible(dispatch, principal, request_id)
        if request["state"] == State.ASSIGNED:
            if request["technician_id"] != me:
                raise AlreadyTaken() if request["mode"] == ConnectionMode.WEB else NotAssignedToYou()
            acknowledged = await acknowledge(dispatch, request_id, me)
            if acknowledged is not None:
                return acknowledged
            continue
        if request["state"] in (State.COMPLETED, State.CANCELLED, State.REJECTED):
            raise RequestClosed(request["state"])
        if request["mode"] != ConnectionMode.WEB or request["state"] != State.OFFERED:
            raise NotAssignedToYou()
        if me not in request["offered_to"]:
            raise NotOfferedToYou()
        won = await _claim_offer(dispatch, request, me)
        if won is not None:
            return won
    raise AlreadyTaken()


async def _claim_offer(dispatch: Dispatch, request: Doc, me: str) -> Doc | None:
    technician = await dispatch.technicians.get(me)
    at = now()
    claim = SlotClaim.FULL
    if technician is not None:
        claim = await dispatch.technicians.claim_slot(technician, request["_id"], at, company_id=None)
    if claim is SlotClaim.HELD:
        await asyncio.sleep(IN_FLIGHT_PAUSE)  # the same technician's other click is claiming it
        return None
    if claim is SlotClaim.FULL:
        raise AtCapacity()
    others = [t for t in request["offered_to"] if t != me]
    emitted = [dispatch.event(request, events.assigned(request, me, alert=False, assignment=1, at=at))]
    if others:
        emitted.append(dispatch.event(request, events.withdrawn(request, others, WithdrawalReason.TAKEN)))
    done = await dispatch.requests.transition(
        request,
        {"state": State.ASSIGNED, "technician_id": me, "assigned_at": at, "assignment": 1, "acknowledged": True,
         "offered_to": []},
        emitted,
        unset=("offer_expires_at",),
    )
    if done is None:
        await dispatch.technicians.release_slot(me, request["_id"], claimed_at=at)
        return None
    log.info("offer accepted", request_id=request["_id"], technician_id=me)
    return done
