"""Routing: putting requests in front of technicians, for the three modes.

Claims go in a fixed order — first a capacity slot on the technician, then the request
(conditional on its revision) — and a lost request claim gives the slot back. A crash
between the two leaves a dated slot that the sweeper frees, after bumping the request's
revision so that a claim still in flight can no longer land.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contracts import Envelope, EventPayload
from contracts.vocabulary import ConnectionMode, PortalType, RejectionReason, WithdrawalReason
from servicekit.logging import get_logger
from servicekit.runtime import Runtime

from dispatch_svc.adapters.codes import Codes
from dispatch_svc.adapters.portals import Portals
from dispatch_svc.adapters.requests import Requests
from dispatch_svc.adapters.technicians import SlotClaim, Technicians
from dispatch_svc.config import Settings
from dispatch_svc.domain.rules import has_spare_capacity, round_robin
from dispatch_svc.domain.states import State
from dispatch_svc.handlers import events
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.phone import route_phone

log = get_logger(__name__)

Doc = dict[str, Any]

# A request is claimed by one worker per attempt; many attempts mean heavy contention, and
# whatever is left is picked up again by the next event or sweep.
MAX_ATTEMPTS = 50


@dataclass
class Dispatch:
    runtime: Runtime
    settings: Settings
    requests: Requests
    technicians: Technicians
    codes: Codes
    portals: Portals

    def event(self, request: Doc, payload: EventPayload) -> Envelope[Any]:
        return self.runtime.event(payload, correlation_id=request["correlation_id"])

    def offer_expiry(self) -> datetime:
        return now() + timedelta(seconds=self.settings.offer_timeout_seconds)

    # Queue mode -----------------------------------------------------------------------

    async def assign_from_queue(self, request: Doc) -> str:
        """Gives a new or queued request to the round-robin technician: assigned, lost or none."""
        candidates = round_robin(
            await self.technicians.eligible(request["company_id"]), passed_over=request.get("passed_over", [])
        )
        for technician in candidates:
            at = now()
            claim = await self.technicians.claim_slot(technician, request["_id"], at, company_id=request["company_id"])
            if claim is not SlotClaim.CLAIMED:
                continue
            assignment = request.get("assignment", 0) + 1
            event = self.event(
                request, events.assigned(request, technician["_id"], alert=True, assignment=assignment, at=at)
            )
            done = await self.requests.transition(
                request,
                {
                    "state": State.ASSIGNED,
                    "technician_id": technician["_id"],
                    "assigned_at": at,
                    "assignment": assignment,
                    "acknowledged": False,
                    "ack_deadline": at + timedelta(seconds=self.settings.accept_timeout_seconds),
                },
                [event],
            )
            if done is not None:
                log.info("request assigned", request_id=request["_id"], technician_id=technician["_id"])
                return "assigned"
            await self.technicians.release_slot(technician["_id"], request["_id"], claimed_at=at)
            return "lost"
        return "none"

    async def route_queue(self, request: Doc) -> None:
        ahead = await self.requests.waiting_ahead(request)
        # Only the head of the company's line may skip the queue: FIFO holds for newcomers.
        if not ahead[State.NEW] and not ahead[State.QUEUED]:
            outcome = await self.assign_from_queue(request)
            if outcome == "assigned":
                return
            if outcome == "lost":
                request = await self.requests.get(request["_id"])
                if request is None or request["state"] != State.NEW:
                    return
        event = self.event(request, events.queued(request, ahead[State.QUEUED] + 1))
        if await self.requests.transition(request, {"state": State.QUEUED}, [event]):
            # A technician may have freed a slot while this request was being queued.
            await self.drive_queue(request["company_id"])

    async def drive_queue(self, company_id: str) -> None:
        """Serves the company's queue, oldest first, while a technician has room."""
        for _ in range(MAX_ATTEMPTS):
            # Technicians are few and requests many: look for room before scanning the queue.
            if not round_robin(await self.technicians.eligible(company_id)):
                return
            head = await self.requests.oldest_queued(company_id)
            if head is None or await self.assign_from_queue(head) == "none":
                return

    async def requeue(self, request: Doc, reason: WithdrawalReason) -> bool:
        """An unacknowledged Queue assignment goes back to the head of the queue."""
        technician_id = request["technician_id"]
        position = (await self.requests.waiting_ahead(request))[State.QUEUED] + 1
        done = await self.requests.transition(
            request,
            {"state": State.QUEUED, "passed_over": [technician_id]},
            [
                self.event(request, events.withdrawn(request, [technician_id], reason)),
                self.event(request, events.queued(request, position)),
            ],
            unset=("technician_id", "assigned_at", "ack_deadline", "acknowledged"),
        )
        if done is None:
            return False
        log.info("assignment lapsed, request back in the queue", request_id=request["_id"], reason=reason.value)
        await self.technicians.release_slot(technician_id, request["_id"])
        await self.drive_company(request["company_id"])
        return True

    # Web mode -------------------------------------------------------------------------

    async def offer_candidates(self, request: Doc) -> list[str]:
        technicians = [t for t in await self.technicians.eligible(request["company_id"]) if has_spare_capacity(t)]
        if request["portal_type"] == PortalType.SMART_MATCH:
            technicians = [t for t in technicians if t["_id"] == request.get("chosen_technician_id")]
        return sorted(t["_id"] for t in technicians)

    async def route_web(self, request: Doc) -> None:
        candidates = await self.offer_candidates(request)
        if request["portal_type"] == PortalType.SMART_MATCH and not candidates:
            await self.reject(request, RejectionReason.TECHNICIAN_UNAVAILABLE)
            return
        expires_at = self.offer_expiry()
        offers = [self.event(request, events.offered(request, candidates, expires_at))] if candidates else []
        await self.requests.transition(
            request, {"state": State.OFFERED, "offered_to": candidates, "offer_expires_at": expires_at}, offers
        )

    async def offer_open_requests(self, company_ids: list[str], technicians: list[Doc]) -> None:
        """Technicians who can take more are offered the open Web requests they lack."""
        able = [t for t in technicians if t.get("available") and t.get("enabled") and has_spare_capacity(t)]
        if not able:
            return
        for request in await self.requests.open_offers(company_ids):
            for technician in able:
                if request["company_id"] in technician.get("company_ids", []):
                    request = await self._add_offer(request, technician["_id"])
                    if request is None:
                        break

    async def _add_offer(self, request: Doc, technician_id: str) -> Doc | None:
        """Offers `request` to one more technician; the request as it is now, None once closed."""
        for _ in range(MAX_ATTEMPTS):
            if technician_id in request["offered_to"] or (
                request["portal_type"] == PortalType.SMART_MATCH and request.get("chosen_technician_id") != technician_id
            ):
                return request
            offer = self.event(request, events.offered(request, [technician_id], request["offer_expires_at"]))
            done = await self.requests.transition(request, {"offered_to": [*request["offered_to"], technician_id]}, [offer])
            if done is not None:
                return done
            request = await self.requests.get(request["_id"])
            if request is None or request["state"] != State.OFFERED:
                return None
        return request

    async def reoffer(self, request: Doc) -> None:
        """An offer nobody accepted in time is made again to whoever can take it now."""
        candidates = await self.offer_candidates(request)
        expires_at = self.offer_expiry()
        gone = sorted(set(request["offered_to"]) - set(candidates))
        emitted = []
        if gone:
            emitted.append(self.event(request, events.withdrawn(request, gone, WithdrawalReason.EXPIRED)))
        if candidates:
            emitted.append(self.event(request, events.offered(request, candidates, expires_at)))
        await self.requests.transition(request, {"offered_to": candidates, "offer_expires_at": expires_at}, emitted)

    async def withdraw_offers_of(self, technician_id: str, company_ids: list[str] | None) -> None:
        """Withdraws the technician's open offers (of `company_ids`, or all of them)."""
        query: dict[str, Any] = {"state": State.OFFERED, "offered_to": technician_id}
        if company_ids is not None:
            query["company_id"] = {"$in": company_ids}
        for request in await self.requests.find(query):
            for _ in range(MAX_ATTEMPTS):
                withdrawal = self.event(
                    request, events.withdrawn(request, [technician_id], WithdrawalReason.TECHNICIAN_UNAVAILABLE)
                )
                remaining = [t for t in request["offered_to"] if t != technician_id]
                if await self.requests.transition(request, {"offered_to": remaining}, [withdrawal]):
                    break
                request = await self.requests.get(request["_id"])
                if request is None or request["state"] != State.OFFERED or technician_id not in request["offered_to"]:
                    break

    # All modes ------------------------------------------------------------------------

    async def reject(self, request: Doc, reason: RejectionReason, message: str | None = None) -> None:
        event = self.event(request, events.rejected(request, reason, message))
        if await self.requests.transition(request, {"state": State.REJECTED, "finished_at": now()}, [event]):
            log.info("request rejected", request_id=request["_id"], reason=reason.value)
            await self.requests.archive(request["_id"])

    async def route(self, request: Doc) -> None:
        """Routes a stored request that is still new (first delivery, redelivery or sweep)."""
        if request.get("state") != State.NEW:
            return
        match request["mode"]:
            case ConnectionMode.QUEUE:
                await self.route_queue(request)
            case ConnectionMode.WEB:
                await self.route_web(request)
            case ConnectionMode.PHONE:
                await route_phone(self, request)

    async def drive_company(self, company_id: str) -> None:
        await self.drive_queue(company_id)
        await self.offer_open_requests([company_id], await self.technicians.eligible(company_id))

    async def drive_technician(self, technician_id: str) -> None:
        """Someone became available or freed capacity: serve what waits for them."""
        technician = await self.technicians.get(technician_id)
        if technician is None:
            return
        for company_id in technician.get("company_ids", []):
            await self.drive_queue(company_id)
        technician = await self.technicians.get(technician_id)
        if technician is not None:
            await self.offer_open_requests(technician.get("company_ids", []), [technician])
