"""The periodic sweeper: re-drives whatever an event missed, so nothing stays stuck.

Every worker runs it; each repair is a conditional write, so concurrent sweeps are safe.
"""

import asyncio
from datetime import datetime, timedelta

from contracts.vocabulary import ConnectionMode, WithdrawalReason
from servicekit.logging import get_logger

from dispatch_svc.domain.states import State
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.phone import retire_code
from dispatch_svc.handlers.routing import Dispatch

log = get_logger(__name__)


async def sweep(dispatch: Dispatch) -> None:
    at = now()
    stuck = at - timedelta(seconds=dispatch.settings.stuck_after_seconds)
    requests, technicians = dispatch.requests, dispatch.technicians
    for request in await requests.stale(State.NEW, "created_at", stuck):
        log.info("re-routing a request left new", request_id=request["_id"])
        await dispatch.route(request)
    for request in await requests.stale(State.OFFERED, "offer_expires_at", at):
        await dispatch.reoffer(request)
    for request in await requests.stale(State.ASSIGNED, "ack_deadline", at):
        if request["mode"] == ConnectionMode.QUEUE and not request.get("acknowledged"):
            await dispatch.requeue(request, WithdrawalReason.EXPIRED)
    waiting = await requests.find({"state": {"$in": [State.QUEUED, State.OFFERED]}})
    for company_id in sorted({r["company_id"] for r in waiting}):
        await dispatch.drive_company(company_id)
    for request_id in await requests.finished_ids():
        await requests.archive(request_id)
    for technician in await technicians.holding_slots():
        for request_id in technician["active"]:
            claimed_at = technician.get("claimed_at", {}).get(request_id)
            if claimed_at and claimed_at < stuck and await orphaned(dispatch, technician["_id"], request_id):
                log.info("freeing a slot its request no longer uses",
                            technician_id=technician["_id"], request_id=request_id)
                await technicians.release_slot(technician["_id"], request_id, claimed_at=claimed_at)
                await dispatch.drive_technician(technician["_id"])
    await sweep_codes(dispatch, stuck)


async def orphaned(dispatch: Dispatch, technician_id: str, request_id: str) -> bool:
    """True when the slot's request is not assigned to the technician and never will be.

    A claimer that took the slot but has not claimed the request yet (a slow write, or a
    crash) would claim it with the revision it read; bumping that revision first makes
    such a late claim fail, so the slot can be freed without ever letting capacity slip.
    """
    request = await dispatch.requests.get(request_id)
    if request is None:
        return True
    if request["state"] == State.ASSIGNED and request.get("technician_id") == technician_id:
        return False
    return await dispatch.requests.transition(request, {"fenced_at": now()}, []) is not None


async def sweep_codes(dispatch: Dispatch, stuck: datetime) -> None:
    for code in await dispatch.codes.retirable(now()):
        user = await dispatch.requests.get(code["used_by"]) if code.get("used_by") else None
        if user is not None and user["state"] == State.NEW:
            continue  # its request is still being connected
        await retire_code(dispatch, code["_id"])
    for technician in await dispatch.technicians.holding_codes():
        for code_id in technician["code_ids"]:
            claimed_at = technician.get("code_claimed_at", {}).get(code_id)
            if claimed_at and claimed_at < stuck and not await dispatch.codes.exists(code_id):
                await dispatch.technicians.release_code_slot(technician["_id"], code_id)
    window = int(now().timestamp() // dispatch.settings.code_failure_window_seconds)
    await dispatch.codes.forget_failures_before(window - 1)


async def sweep_forever(dispatch: Dispatch) -> None:
    while True:
        await asyncio.sleep(dispatch.settings.sweep_interval_seconds)
        try:
            await sweep(dispatch)
        except Exception as error:  # a failed sweep is retried at the next tick
            log.warning("dispatch sweep failed", error=repr(error))
