"""The customer side: what a portal shows, submitting a request, following and cancelling it."""

from datetime import UTC, datetime
from typing import Any

from contracts import RequestCancelled, RequestSubmitted
from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from servicekit.auth import Principal, Role
from servicekit.logging import get_logger

from portal_svc.domain import requests as lifecycle
from portal_svc.domain.commands import SubmitRequest
from portal_svc.domain.errors import Conflict, Forbidden, NotFound
from portal_svc.domain.requests import Status
from portal_svc.domain.views import AvailableTechnician, PortalView, decide_view
from portal_svc.handlers.context import Context, new_id

log = get_logger(__name__)

CHAT_WS_PATH = "/api/chat/ws/{session_id}"


async def find_portal(ctx: Context, subdomain: str) -> dict[str, Any]:
    doc = await ctx.repo.portal_by_subdomain(subdomain.lower())
    if doc is None:
        raise NotFound(f"there is no support portal at {subdomain!r}", code="portal_not_found")
    return doc


async def available_technicians(ctx: Context, portal: dict[str, Any]) -> list[AvailableTechnician]:
    """From the presence read model, kept to technicians we still know to serve the company."""
    records = await ctx.repo.available_in(portal["account_id"], portal["company_id"])
    if not records:
        return []
    allowed = await ctx.repo.enabled_technicians_with_access([r["_id"] for r in records], portal["company_id"])
    return [
        AvailableTechnician(technician_id=r["_id"], display_name=r.get("display_name") or "Technician")
        for r in records
        if r["_id"] in allowed
    ]


async def portal_view(ctx: Context, portal: dict[str, Any]) -> PortalView:
    mode, portal_type = ConnectionMode(portal["mode"]), PortalType(portal["portal_type"])
    needs_availability = portal["status"] == PortalStatus.ACTIVE and mode is ConnectionMode.WEB
    available = await available_technicians(ctx, portal) if needs_availability else []
    return decide_view(PortalStatus(portal["status"]), mode, portal_type, available)


async def public_portal(ctx: Context, subdomain: str) -> dict[str, Any]:
    portal = await find_portal(ctx, subdomain)
    company = await ctx.repo.company(portal["account_id"], portal["company_id"])
    view = await portal_view(ctx, portal)
    return {
        "subdomain": portal["subdomain"],
        "company_name": company["name"] if company else portal["subdomain"],
        "view": view.view.value,
        "message": view.message,
        "mode": portal["mode"],
        "portal_type": portal["portal_type"],
        "technicians": [{"technician_id": t.technician_id, "display_name": t.display_name} for t in view.technicians],
    }


async def submit_request(ctx: Context, subdomain: str, command: SubmitRequest) -> dict[str, Any]:
    portal = await find_portal(ctx, subdomain)
    if portal["status"] != PortalStatus.ACTIVE:
        raise Conflict(
            "Service unavailable — we apologise for this temporary inconvenience.", code="portal_unavailable"
        )
    mode, portal_type = ConnectionMode(portal["mode"]), PortalType(portal["portal_type"])
    available = await available_technicians(ctx, portal) if mode is ConnectionMode.WEB else []
    lifecycle.check_submission(
        mode,
        portal_type,
        description=command.description,
        chosen_technician_id=command.chosen_technician_id,
        connection_code=command.connection_code,
        available_ids={t.technician_id for t in available},
    )
    now = datetime.now(UTC)
    request_id = new_id("req")
    submitted = RequestSubmitted(
        request_id=request_id,
        account_id=portal["account_id"],
        company_id=portal["company_id"],
        portal_id=portal["_id"],
        mode=mode,
        portal_type=portal_type,
        customer_name=command.customer_name,
        customer_email=command.customer_email,
        description=command.description,
        chosen_technician_id=command.chosen_technician_id,
        connection_code=command.connection_code,
        submitted_at=now,
    )
    doc = {
        "_id": request_id,
        "account_id": portal["account_id"],
        "company_id": portal["company_id"],
        "portal_id": portal["_id"],
        "subdomain": portal["subdomain"],
        "mode": mode.value,
        "portal_type": portal_type.value,
        "customer_name": command.customer_name,
        "customer_email": command.customer_email,
        "description": command.description,
        "chosen_technician_id": command.chosen_technician_id,
        "status": Status.SUBMITTED.value,
        "status_at": now,
        "submitted_at": now,
    }
    events = [ctx.runtime.event(submitted, correlation_id=request_id)]
    await ctx.repo.insert_with_events(ctx.repo.requests, doc, events, ctx.runtime.outbox)
    log.info("request submitted", request_id=request_id, portal_id=portal["_id"], mode=mode.value)
    token = ctx.sign(
        Principal(
            subject=request_id,
            role=Role.CUSTOMER,
            account_id=portal["account_id"],
            name=command.customer_name,
            company_ids=[portal["company_id"]],
            request_id=request_id,
        ),
        ctx.settings.customer_token_ttl_hours,
    )
    return {
        "request_id": request_id,
        "token": token,
        "status_url": f"{ctx.settings.public_base_url.rstrip('/')}/api/portal/requests/{request_id}",
        "status": Status.SUBMITTED.value,
    }


async def _own_request(ctx: Context, customer: Principal, request_id: str) -> dict[str, Any]:
    if customer.role is not Role.CUSTOMER or customer.request_id != request_id:
        raise Forbidden("this token is not valid for that request", code="wrong_request")
    doc = await ctx.repo.request(request_id)
    if doc is None:
        raise NotFound("no such request", code="request_not_found")
    return doc


async def status_view(ctx: Context, doc: dict[str, Any]) -> dict[str, Any]:
    status = Status(doc["status"])
    view: dict[str, Any] = {
        "request_id": doc["_id"],
        "status": status.value,
        "message": doc.get("rejection_message") or lifecycle.TEXT[status],
        "position": None,
        "technician": None,
        "session_id": None,
        "chat_ws_path": None,
        "reason": doc.get("rejection_reason"),
        "submitted_at": doc["submitted_at"],
        "updated_at": doc["status_at"],
        "cancellable": status in lifecycle.MAY_FOLLOW[Status.CANCELLED],
    }
    if status is Status.QUEUED and doc.get("queued_since"):
        view["position"] = await ctx.repo.queue_position(doc["company_id"], doc["queued_since"], doc["_id"])
    if doc.get("technician_id") and status in {Status.ASSIGNED, Status.CHAT_OPEN, Status.ENDED}:
        technician = await ctx.repo.user(doc["account_id"], doc["technician_id"], Role.TECHNICIAN.value)
        view["technician"] = {
            "technician_id": doc["technician_id"],
            "display_name": technician["name"] if technician else "Technician",
        }
    if doc.get("session_id") and status is Status.CHAT_OPEN:
        view["session_id"] = doc["session_id"]
        view["chat_ws_path"] = CHAT_WS_PATH.format(session_id=doc["session_id"])
    elif doc.get("session_id"):
        view["session_id"] = doc["session_id"]
    return view


async def request_status(ctx: Context, customer: Principal, request_id: str) -> dict[str, Any]:
    return await status_view(ctx, await _own_request(ctx, customer, request_id))


async def cancel_request(ctx: Context, customer: Principal, request_id: str) -> dict[str, Any]:
    doc = await _own_request(ctx, customer, request_id)
    if doc["status"] == Status.CANCELLED:
        return await status_view(ctx, doc)  # a repeated click is not an error
    lifecycle.check_cancellable(Status(doc["status"]))
    now = datetime.now(UTC)
    event = ctx.runtime.event(
        RequestCancelled(request_id=request_id, account_id=doc["account_id"], company_id=doc["company_id"]),
        correlation_id=request_id,
    )
    cancelled = await ctx.repo.cancel_request(
        request_id,
        frozenset(s.value for s in lifecycle.MAY_FOLLOW[Status.CANCELLED]),
        {"status": Status.CANCELLED.value, "status_at": now},
        [event],
        ctx.runtime.outbox,
    )
    if cancelled is None:
        # Dispatch moved it between our read and our write: explain with the new status.
        latest = await _own_request(ctx, customer, request_id)
        if latest["status"] == Status.CANCELLED:
            return await status_view(ctx, latest)
        lifecycle.check_cancellable(Status(latest["status"]))
        raise Conflict("the request changed meanwhile; try again", code="concurrent_change")
    log.info("request cancelled", request_id=request_id)
    return await status_view(ctx, cancelled)
