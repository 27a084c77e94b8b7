"""The customer side: what a portal shows, submitting a request, following and cancelling it."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from contracts import RequestCancelled, RequestSubmitted, new_id
from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from portal_svc.adapters.availability import AvailabilityRepository
from portal_svc.adapters.portal_directory import PortalDirectory
from portal_svc.adapters.requests import RequestRepository
from portal_svc.adapters.tokens import TokenIssuer
from portal_svc.adapters.users import UserRepository
from portal_svc.adapters.waits import WaitRepository
from portal_svc.domain import requests as lifecycle
from portal_svc.domain.commands import SubmitRequest
from portal_svc.domain.errors import Conflict, Forbidden, NotFound
from portal_svc.domain.forms import parse_form
from portal_svc.domain.hours import DEFAULT_MAX_WAIT_SECONDS, OpenState, open_state, parse_hours, reopening_text
from portal_svc.domain.requests import WAITING, Status
from portal_svc.domain.views import AvailableTechnician, PortalView, decide_view
from portal_svc.domain.waits import estimate_wait
from portal_svc.handlers.stamp import Stamp
from servicekit.auth import Principal, Role
from servicekit.logging import get_logger

log = get_logger(__name__)


async def _nobody_listens(_company_id: str) -> None:
    return None


CHAT_WS_PATH = "/api/chat/ws/{session_id}"
CANCELLABLE = frozenset(s.value for s in lifecycle.MAY_FOLLOW[Status.CANCELLED])


class CustomerPortal:
    def __init__(
        self,
        portals: PortalDirectory,
        users: UserRepository,
        requests: RequestRepository,
        availability: AvailabilityRepository,
        waits: WaitRepository,
        tokens: TokenIssuer,
        stamp: Stamp,
        *,
        public_base_url: str,
    ) -> None:
        self._portals = portals
        self._users = users
        self._requests = requests
        self._availability = availability
        self._waits = waits
        self._tokens = tokens
        self._stamp = stamp
        self._base_url = public_base_url.rstrip("/")
        self.changed: Callable[[str], Awaitable[None]] = _nobody_listens
        """Tells the company's waiting customers (every replica) that the queue moved."""

    async def find_portal(self, subdomain: str) -> dict[str, Any]:
        """The portal (and its company's name) as read at most `portal_cache_seconds` ago."""
        doc = await self._portals.by_subdomain(subdomain.lower())
        if doc is None:
            raise NotFound(f"there is no support portal at {subdomain!r}", code="portal_not_found")
        return doc

    async def available_technicians(self, portal: dict[str, Any]) -> list[AvailableTechnician]:
        """From the availability read model: one read, which follows technicians' records
        (company lists, enabled) by our own `TechnicianUpdated` a moment after each change —
        dispatch, which assigns, decides from its own view in any case."""
        records = await self._availability.available_in(portal["account_id"], portal["company_id"])
        return [
            AvailableTechnician(technician_id=r["_id"], display_name=r.get("display_name") or "Technician")
            for r in records
        ]

    @staticmethod
    def open_state(portal: dict[str, Any], now: datetime | None = None) -> OpenState:
        return open_state(parse_hours(portal.get("hours")), now or datetime.now(UTC))

    async def portal_view(self, portal: dict[str, Any]) -> PortalView:
        mode, portal_type = ConnectionMode(portal["mode"]), PortalType(portal["portal_type"])
        now = datetime.now(UTC)
        state = self.open_state(portal, now)
        closed_text = None if state.open else reopening_text(state, now)
        needs_availability = portal["status"] == PortalStatus.ACTIVE and mode is ConnectionMode.WEB and state.open
        available = await self.available_technicians(portal) if needs_availability else []
        return decide_view(PortalStatus(portal["status"]), mode, portal_type, available, closed_text=closed_text)

    async def public_portal(self, portal: dict[str, Any], view: PortalView) -> dict[str, Any]:
        return {
            "subdomain": portal["subdomain"],
            "company_name": portal["company_name"],
            "view": view.view.value,
            "message": view.message,
            "mode": portal["mode"],
            "portal_type": portal["portal_type"],
            "accepts_messages": portal["status"] == PortalStatus.ACTIVE,
            "max_wait_seconds": portal.get("max_wait_seconds", DEFAULT_MAX_WAIT_SECONDS),
            "next_open": self.open_state(portal).next_open,
            "technicians": [
                {"technician_id": t.technician_id, "display_name": t.display_name} for t in view.technicians
            ],
        }

    async def show(self, subdomain: str) -> dict[str, Any]:
        portal = await self.find_portal(subdomain)
        return await self.public_portal(portal, await self.portal_view(portal))

    async def submit(self, subdomain: str, raw: object) -> dict[str, Any]:
        """`raw` is the JSON body: every field error is reported at once (`domain.forms`)."""
        portal = await self.find_portal(subdomain)
        if portal["status"] != PortalStatus.ACTIVE:
            raise Conflict(
                "Service unavailable — we apologise for this temporary inconvenience.", code="portal_unavailable"
            )
        now = datetime.now(UTC)
        state = self.open_state(portal, now)
        if not state.open:
            # Refused here, so dispatch never routes a request of a closed portal.
            raise Conflict(reopening_text(state, now), code="portal_closed")
        mode, portal_type = ConnectionMode(portal["mode"]), PortalType(portal["portal_type"])
        command = (
            raw
            if isinstance(raw, SubmitRequest)
            else parse_form(
                SubmitRequest,
                raw,
                required=lifecycle.required_fields(portal_type),
                code_field="connection_code" if portal_type is PortalType.SMART_PIN else None,
            )
        )
        available = await self.available_technicians(portal) if mode is ConnectionMode.WEB else []
        lifecycle.check_submission(
            mode,
            portal_type,
            chosen_technician_id=command.chosen_technician_id,
            connection_code=command.connection_code,
            available_ids={t.technician_id for t in available},
        )
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
        await self._requests.insert(doc, [self._stamp(submitted, correlation_id=request_id)])
        log.info("request submitted", request_id=request_id, portal_id=portal["_id"], mode=mode.value)
        token = self._tokens.customer(
            Principal(
                subject=request_id,
                role=Role.CUSTOMER,
                account_id=portal["account_id"],
                name=command.customer_name,
                company_ids=[portal["company_id"]],
                request_id=request_id,
            )
        )
        return {
            "request_id": request_id,
            "token": token,
            "status_url": f"{self._base_url}/api/portal/requests/{request_id}",
            "status": Status.SUBMITTED.value,
        }

    async def _own_request(self, customer: Principal, request_id: str) -> dict[str, Any]:
        if customer.role is not Role.CUSTOMER or customer.request_id != request_id:
            raise Forbidden("this token is not valid for that request", code="wrong_request")
        doc = await self._requests.get(request_id)
        if doc is None:
            raise NotFound("no such request", code="request_not_found")
        return doc

    async def _status_view(self, doc: dict[str, Any]) -> dict[str, Any]:
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
            "waiting_since": doc["submitted_at"],
            "estimated_wait_seconds": None,
            "nobody_available": False,
        }
        if status is Status.QUEUED and doc.get("queued_since"):
            view["position"] = await self._requests.queue_position(doc["company_id"], doc["queued_since"], doc["_id"])
            handling = await self._waits.recent_handling(doc["company_id"])
            serving = await self._availability.available_in(doc["account_id"], doc["company_id"])
            view["estimated_wait_seconds"] = estimate_wait(view["position"], handling, len(serving))
        web_waiting = status in WAITING and doc.get("mode") == ConnectionMode.WEB.value
        # Offers go only to available technicians: with none left, nobody will answer.
        if web_waiting and not await self._availability.available_in(doc["account_id"], doc["company_id"]):
            view["nobody_available"] = True
            view["message"] = (
                "No technician is available any more. You can leave us a message and we will answer by e-mail."
            )
        if doc.get("technician_id") and status in {Status.ASSIGNED, Status.CHAT_OPEN, Status.ENDED}:
            technician = await self._users.get(doc["account_id"], doc["technician_id"], Role.TECHNICIAN.value)
            view["technician"] = {
                "technician_id": doc["technician_id"],
                "display_name": technician["name"] if technician else "Technician",
            }
        if doc.get("session_id"):
            view["session_id"] = doc["session_id"]
            if status is Status.CHAT_OPEN:
                view["chat_ws_path"] = CHAT_WS_PATH.format(session_id=doc["session_id"])
        return view

    async def status(self, customer: Principal, request_id: str) -> dict[str, Any]:
        return await self._status_view(await self._own_request(customer, request_id))

    async def cancel(self, customer: Principal, request_id: str) -> dict[str, Any]:
        doc = await self._own_request(customer, request_id)
        if doc["status"] == Status.CANCELLED:
            return await self._status_view(doc)  # a repeated click is not an error
        lifecycle.check_cancellable(Status(doc["status"]))
        event = self._stamp(
            RequestCancelled(request_id=request_id, account_id=doc["account_id"], company_id=doc["company_id"]),
            correlation_id=request_id,
        )
        fields = {"status": Status.CANCELLED.value, "status_at": datetime.now(UTC)}
        cancelled = await self._requests.change_status(request_id, CANCELLABLE, fields, [event])
        if cancelled is None:
            # Dispatch moved it between our read and our write: explain with the new status.
            latest = await self._own_request(customer, request_id)
            if latest["status"] == Status.CANCELLED:
                return await self._status_view(latest)
            lifecycle.check_cancellable(Status(latest["status"]))
            raise Conflict("the request changed meanwhile; try again", code="concurrent_change")
        log.info("request cancelled", request_id=request_id)
        await self.changed(doc["company_id"])
        return await self._status_view(cancelled)
