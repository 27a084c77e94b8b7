"""Reactions to the events dispatch consumes. Each one is safe to run twice."""

from typing import Any

from contracts import (
    ChatSessionEnded,
    Envelope,
    PortalConfigured,
    RequestCancelled,
    RequestSubmitted,
    TechnicianAvailable,
    TechnicianUnavailable,
    TechnicianUpdated,
)
from contracts.vocabulary import ConnectionMode, PortalStatus, RejectionReason, WithdrawalReason
from servicekit.logging import get_logger

from dispatch_svc.adapters.technicians import newer
from dispatch_svc.domain.states import CANCELLABLE, State
from dispatch_svc.handlers import events
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.routing import MAX_ATTEMPTS, Dispatch

log = get_logger(__name__)

Doc = dict[str, Any]


async def on_submitted(dispatch: Dispatch, event: Envelope[RequestSubmitted]) -> None:
    data = event.data
    request = await dispatch.requests.insert_new(
        {
            "_id": data.request_id,
            "account_id": data.account_id,
            "company_id": data.company_id,
            "portal_id": data.portal_id,
            "mode": data.mode.value,
            "portal_type": data.portal_type.value,
            "customer_name": data.customer_name,
            "description": data.description,
            "chosen_technician_id": data.chosen_technician_id,
            "connection_code": data.connection_code,
            "submitted_at": data.submitted_at,
            # FIFO key; kept when an unacknowledged request is put back, so it returns to the head.
            "queued_since": data.submitted_at,
            "correlation_id": event.correlation_id,
            "offered_to": [],
            "assignment": 0,
            "created_at": now(),
        }
    )
    if request.get("state") != State.NEW:
        return
    portal = await dispatch.portals.get(data.portal_id)
    if portal is not None and portal["status"] == PortalStatus.INACTIVE:
        await dispatch.reject(request, RejectionReason.PORTAL_INACTIVE)
        return
    await dispatch.route(request)


async def on_portal_configured(dispatch: Dispatch, event: Envelope[PortalConfigured]) -> None:
    data = event.data
    await dispatch.portals.record(
        data.portal_id,
        data.revision,
        {"company_id": data.company_id, "status": data.status.value, "mode": data.mode.value},
    )


async def release(dispatch: Dispatch, request: Doc) -> None:
    """Gives back what a finished request held, then files it in the history."""
    if request.get("technician_id"):
        await dispatch.technicians.release_slot(request["technician_id"], request["_id"])
    await dispatch.requests.archive(request["_id"])
    if request.get("technician_id"):
        await dispatch.drive_technician(request["technician_id"])


async def on_cancelled(dispatch: Dispatch, event: Envelope[RequestCancelled]) -> None:
    """The customer cancelled: withdraw offers, leave the queue, free the technician."""
    data = event.data
    for _ in range(MAX_ATTEMPTS):
        request = await dispatch.requests.get(data.request_id)
        if request is None:
            if await dispatch.requests.archived(data.request_id) is not None:
                return
            # Queues are independent: the cancellation may overtake the submission.
            await dispatch.requests.tombstone(
                data.request_id,
                {"state": State.CANCELLED, "company_id": data.company_id, "account_id": data.account_id,
                 "finished_at": now(), "cancelled_before_submission": True},
            )
            request = await dispatch.requests.get(data.request_id)
            if request is None:
                return
        if request["state"] not in CANCELLABLE:
            await release(dispatch, request)
            return
        alerted = list(request.get("offered_to", [])) if request["state"] == State.OFFERED else []
        if request["state"] == State.ASSIGNED and not request.get("acknowledged"):
            alerted = [request["technician_id"]]
        emitted = [dispatch.event(request, events.withdrawn(request, alerted, WithdrawalReason.CANCELLED))] if alerted else []
        done = await dispatch.requests.transition(
            request, {"state": State.CANCELLED, "finished_at": now()}, emitted
        )
        if done is not None:
            log.info("request cancelled", request_id=request["_id"], was=request["state"])
            await release(dispatch, done)
            return


async def acknowledge(dispatch: Dispatch, request_id: str, technician_id: str) -> Doc | None:
    for _ in range(MAX_ATTEMPTS):
        request = await dispatch.requests.get(request_id)
        if request is None or request["state"] != State.ASSIGNED or request["technician_id"] != technician_id:
            return None
        if request.get("acknowledged"):
            return request
        done = await dispatch.requests.transition(request, {"acknowledged": True}, [], unset=("ack_deadline",))
        if done is not None:
            return done
    return None


async def on_session_ended(dispatch: Dispatch, event: Envelope[ChatSessionEnded]) -> None:
    """The chat is over: the request is completed and the technician's slot is free."""
    data = event.data
    for _ in range(MAX_ATTEMPTS):
        request = await dispatch.requests.get(data.request_id)
        if request is None or request["state"] != State.ASSIGNED or request["technician_id"] != data.technician_id:
            break
        if await dispatch.requests.transition(request, {"state": State.COMPLETED, "finished_at": now()}, []):
            break
    await dispatch.technicians.release_slot(data.technician_id, data.request_id)
    await dispatch.requests.archive(data.request_id)
    await dispatch.drive_technician(data.technician_id)


async def on_available(dispatch: Dispatch, event: Envelope[TechnicianAvailable]) -> None:
    data = event.data
    changed = await dispatch.technicians.record(
        data.technician_id,
        data.account_id,
        newer("sequence", data.sequence),
        {"available": True, "sequence": data.sequence, "company_ids": data.company_ids,
         "capacity": data.capacity, "display_name": data.display_name},
    )
    if not changed:
        log.info("stale availability ignored", technician_id=data.technician_id, sequence=data.sequence)
        return
    await dispatch.drive_technician(data.technician_id)


async def on_unavailable(dispatch: Dispatch, event: Envelope[TechnicianUnavailable]) -> None:
    data = event.data
    changed = await dispatch.technicians.record(
        data.technician_id, data.account_id, newer("sequence", data.sequence),
        {"available": False, "sequence": data.sequence},
    )
    if not changed:
        log.info("stale unavailability ignored", technician_id=data.technician_id, sequence=data.sequence)
        return
    await step_back(dispatch, data.technician_id, None)


async def step_back(dispatch: Dispatch, technician_id: str, company_ids: list[str] | None) -> None:
    """The technician can no longer take requests (of `company_ids`, or at all)."""
    await dispatch.withdraw_offers_of(technician_id, company_ids)
    query: dict[str, Any] = {"state": State.ASSIGNED, "technician_id": technician_id,
                             "mode": ConnectionMode.QUEUE, "acknowledged": False}
    if company_ids is not None:
        query["company_id"] = {"$in": company_ids}
    for request in await dispatch.requests.find(query):
        await dispatch.requeue(request, WithdrawalReason.TECHNICIAN_UNAVAILABLE)


async def on_technician_updated(dispatch: Dispatch, event: Envelope[TechnicianUpdated]) -> None:
    data = event.data
    before = await dispatch.technicians.get(data.technician_id)
    changed = await dispatch.technicians.record(
        data.technician_id, data.account_id, newer("revision", data.revision),
        {"revision": data.revision, "company_ids": data.company_ids, "capacity": data.capacity,
         "enabled": data.enabled, "display_name": data.display_name},
    )
    if not changed:
        return
    if not data.enabled:
        await step_back(dispatch, data.technician_id, None)
        return
    lost = sorted(set((before or {}).get("company_ids", [])) - set(data.company_ids))
    if lost:
        await step_back(dispatch, data.technician_id, lost)
    await dispatch.drive_technician(data.technician_id)
