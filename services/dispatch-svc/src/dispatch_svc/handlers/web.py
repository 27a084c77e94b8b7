"""Web mode: offers to every technician who can take the request; the first accept wins."""

import asyncio
from datetime import datetime, timedelta

from contracts.vocabulary import PortalType, RejectionReason, WithdrawalReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import SlotClaim, TechnicianRepository
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.errors import AtCapacity
from dispatch_svc.domain.request import State
from dispatch_svc.domain.technician import has_spare_capacity, routable_for
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc, Rejections
from servicekit import tracing
from servicekit.logging import get_logger

log = get_logger(__name__)

IN_FLIGHT_PAUSE = 0.05


class WebRouting:
    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        announce: Announcer,
        rejections: Rejections,
        *,
        offer_timeout: float,
    ) -> None:
        self.requests = requests
        self.technicians = technicians
        self.announce = announce
        self.rejections = rejections
        self.offer_timeout = timedelta(seconds=offer_timeout)

    def _expiry(self) -> datetime:
        return now() + self.offer_timeout

    async def _candidates(self, request: Doc) -> list[str]:
        technicians = [t for t in await self.technicians.eligible(request["company_id"]) if has_spare_capacity(t)]
        if request["portal_type"] == PortalType.SMART_MATCH:
            technicians = [t for t in technicians if t["_id"] == request.get("chosen_technician_id")]
        return sorted(t["_id"] for t in technicians)

    async def route(self, request: Doc) -> None:
        candidates = await self._candidates(request)
        if request["portal_type"] == PortalType.SMART_MATCH and not candidates:
            await self.rejections.reject(request, RejectionReason.TECHNICIAN_UNAVAILABLE)
            return
        expires_at = self._expiry()
        offers = (
            [self.announce.about(request, announcements.offered(request, candidates, expires_at))] if candidates else []
        )
        await self.requests.apply(request, requests.offer(request, candidates, expires_at), offers)

    async def offer_open_requests(self, company_ids: list[str], technicians: list[Doc]) -> None:
        """Technicians who can take more are offered the open Web requests they lack."""
        able = [t for t in technicians if has_spare_capacity(t)]
        if not able:
            return
        for request in await self.requests.open_offers(company_ids):
            for technician in able:
                if routable_for(technician, request["company_id"]):
                    found = await self._add_offer(request, technician["_id"])
                    if found is None:
                        break
                    request = found

    async def _add_offer(self, request: Doc, technician_id: str) -> Doc | None:
        """Offers `request` to one more technician; the request as it is now, None once closed."""
        for _ in range(MAX_ATTEMPTS):
            if technician_id in request["offered_to"] or (
                request["portal_type"] == PortalType.SMART_MATCH
                and request.get("chosen_technician_id") != technician_id
            ):
                return request
            expires_at = request["offer_expires_at"]
            offer = self.announce.about(request, announcements.offered(request, [technician_id], expires_at))
            change = requests.offer(request, [*request["offered_to"], technician_id], expires_at)
            done = await self.requests.apply(request, change, [offer])
            if done is not None:
                return done
            fresh = await self.requests.get(request["_id"])
            if fresh is None or fresh["state"] != State.OFFERED:
                return None
            request = fresh
        return request

    async def reoffer(self, request: Doc) -> None:
        """An offer nobody accepted in time is made again to whoever can take it now."""
        candidates = await self._candidates(request)
        expires_at = self._expiry()
        gone = sorted(set(request["offered_to"]) - set(candidates))
        emitted = []
        if gone:
            emitted.append(
                self.announce.about(request, announcements.withdrawn(request, gone, WithdrawalReason.EXPIRED))
            )
        if candidates:
            emitted.append(self.announce.about(request, announcements.offered(request, candidates, expires_at)))
        await self.requests.apply(request, requests.offer(request, candidates, expires_at), emitted)

    async def withdraw_offers(self, technician_id: str, offers: list[Doc]) -> None:
        """Withdraws the technician's open `offers` (as read)."""
        for request in offers:
            for _ in range(MAX_ATTEMPTS):
                withdrawal = self.announce.about(
                    request, announcements.withdrawn(request, [technician_id], WithdrawalReason.TECHNICIAN_UNAVAILABLE)
                )
                remaining = [t for t in request["offered_to"] if t != technician_id]
                if await self.requests.apply(request, requests.withdraw(request, remaining), [withdrawal]):
                    break
                fresh = await self.requests.get(request["_id"])
                if fresh is None or fresh["state"] != State.OFFERED or technician_id not in fresh["offered_to"]:
                    break
                request = fresh

    async def take(self, request: Doc, technician_id: str) -> Doc | None:
        """The technician accepts an offer: the request if they win, None when it changed
        meanwhile (the caller looks again). The slot claim's filter checks the technician's
        current access and room; `AtCapacity` when it refuses."""
        at = now()
        claim = await self.technicians.claim_slot(
            technician_id, request["_id"], at, company_id=request["company_id"], routable=False
        )
        if claim is SlotClaim.HELD:
            await asyncio.sleep(IN_FLIGHT_PAUSE)  # the same technician's other click is claiming it
            return None
        if claim is SlotClaim.FULL:
            raise AtCapacity()
        change = requests.assign(request, technician_id, at, acknowledged=True)
        emitted = [self.announce.about(request, announcements.assigned(request, change.set, alert=False))]
        others = [t for t in request["offered_to"] if t != technician_id]
        if others:
            emitted.append(
                self.announce.about(request, announcements.withdrawn(request, others, WithdrawalReason.TAKEN))
            )
        with tracing.resumed(request.get("trace")):
            done = await self.requests.apply(request, change, emitted)
        if done is None:
            await self.technicians.release_slot(technician_id, request["_id"], claimed_at=at)
            return None
        log.info("offer accepted", request_id=request["_id"], technician_id=technician_id)
        return done
