"""Phone mode: connection codes, and requests that come in with one."""

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from contracts import ConnectionCodeIssued, ConnectionCodeRevoked
from contracts.vocabulary import RejectionReason
from servicekit.auth import Principal
from servicekit.logging import get_logger

from dispatch_svc.adapters.technicians import SlotClaim
from dispatch_svc.domain.errors import CodeNotFound, NotYourCompany, TooManyCodes
from dispatch_svc.domain.rules import TOO_MANY_WRONG_CODES, classify_code, new_code
from dispatch_svc.domain.states import State
from dispatch_svc.handlers import events
from dispatch_svc.handlers.clock import now

if TYPE_CHECKING:
    from dispatch_svc.handlers.routing import Dispatch

log = get_logger(__name__)

Doc = dict[str, Any]

DRAWS = 20


def _window(dispatch: "Dispatch") -> int:
    return int(now().timestamp() // dispatch.settings.code_failure_window_seconds)


async def route_phone(dispatch: "Dispatch", request: Doc) -> None:
    """Connects a request directly to the technician whose code it carries — or rejects it."""
    codes, window = dispatch.codes, _window(dispatch)
    if await codes.failures(request["company_id"], window) >= dispatch.settings.code_failures_per_window:
        # While guessing is throttled even a right code is refused, or guessing would still pay.
        await dispatch.reject(request, RejectionReason.INVALID_CODE, TOO_MANY_WRONG_CODES)
        return
    live, retired = await codes.by_value(request.get("connection_code") or "")
    reason = classify_code(live, retired, company_id=request["company_id"], request_id=request["_id"], now=now())
    if reason is None and live is not None and not await codes.use(live["_id"], request["_id"], now()):
        live, retired = await codes.by_value(request["connection_code"])
        reason = classify_code(live, retired, company_id=request["company_id"], request_id=request["_id"], now=now())
    if reason is not None:
        if reason is RejectionReason.INVALID_CODE:
            await codes.count_failure(request["company_id"], window, request["_id"])
        await dispatch.reject(request, reason)
        return
    # The code is this request's now (possibly already retired by a sweep after a crash).
    code = live or retired
    technician = await dispatch.technicians.get(code["technician_id"])
    at = now()
    claim = SlotClaim.FULL
    if technician is not None:
        claim = await dispatch.technicians.claim_slot(technician, request["_id"], at, company_id=None)
    if claim is SlotClaim.HELD:
        return  # a crashed attempt holds the slot; the sweeper frees it and routes again
    if claim is SlotClaim.FULL:
        # The code stays usable: the customer can try again once the technician has room.
        await codes.give_back(code["_id"], request["_id"])
        await dispatch.reject(request, RejectionReason.TECHNICIAN_UNAVAILABLE)
        return
    event = dispatch.event(
        request, events.assigned(request, technician["_id"], alert=False, assignment=1, at=at)
    )
    done = await dispatch.requests.transition(
        request,
        {"state": State.ASSIGNED, "technician_id": technician["_id"], "assigned_at": at, "assignment": 1,
         "acknowledged": True, "code_id": code["_id"]},
        [event],
    )
    if done is None:
        await dispatch.technicians.release_slot(technician["_id"], request["_id"], claimed_at=at)
        return
    log.info("request connected by code", request_id=request["_id"], technician_id=technician["_id"])
    await retire_code(dispatch, code["_id"])


async def retire_code(dispatch: "Dispatch", code_id: str) -> None:
    document = await dispatch.codes.live.find_one({"_id": code_id})
    if document is None:
        return
    await dispatch.codes.retire(document, now())
    await dispatch.technicians.release_code_slot(document["technician_id"], code_id)


async def issue_code(dispatch: "Dispatch", principal: Principal, company_id: str) -> Doc:
    if not principal.can_access_company(company_id):
        raise NotYourCompany()
    technicians = dispatch.technicians
    await technicians.ensure(principal.subject, principal.account_id, principal.company_ids)
    code_id = f"cod_{uuid.uuid4().hex[:16]}"
    if not await technicians.claim_code_slot(principal.subject, code_id, dispatch.settings.max_live_codes, now()):
        raise TooManyCodes(dispatch.settings.max_live_codes)
    expires_at = now() + timedelta(seconds=dispatch.settings.code_ttl_seconds)
    issued = dispatch.runtime.event(
        ConnectionCodeIssued(
            code_id=code_id,
            account_id=principal.account_id,
            company_id=company_id,
            technician_id=principal.subject,
            expires_at=expires_at,
        ),
        correlation_id=code_id,
    )
    document = {
        "_id": code_id,
        "account_id": principal.account_id,
        "company_id": company_id,
        "technician_id": principal.subject,
        "expires_at": expires_at,
        "created_at": now(),
        "used_by": None,
        "revoked": False,
    }
    for _ in range(DRAWS):
        document["code"] = new_code()
        if await dispatch.codes.insert(document, [issued]):
            log.info("connection code issued", code_id=code_id, technician_id=principal.subject)
            return document
    await technicians.release_code_slot(principal.subject, code_id)
    raise RuntimeError("no free connection code value found")


async def list_codes(dispatch: "Dispatch", principal: Principal) -> list[Doc]:
    return await dispatch.codes.live_of(principal.subject, now())


async def revoke_code(dispatch: "Dispatch", principal: Principal, code_id: str) -> None:
    revoked = dispatch.runtime.event(
        ConnectionCodeRevoked(code_id=code_id, account_id=principal.account_id, technician_id=principal.subject),
        correlation_id=code_id,
    )
    if await dispatch.codes.revoke(code_id, principal.subject, [revoked]) is None:
        raise CodeNotFound(code_id)
    log.info("connection code revoked", code_id=code_id)
    await retire_code(dispatch, code_id)
