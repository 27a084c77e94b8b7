"""What a technician does over HTTP with requests: see theirs, accept one.

Access is decided from dispatch's own record of the technician (`TechnicianUpdated`), the
token proving only who they are."""

import asyncio
from dataclasses import dataclass, field

from contracts.vocabulary import ConnectionMode
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.errors import (
    AlreadyTaken,
    AtCapacity,
    NotAssignedToYou,
    NotOfferedToYou,
    NotYourCompany,
    RequestClosed,
)
from dispatch_svc.domain.request import FINISHED, State
from dispatch_svc.domain.technician import accessible_companies
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc, visible_request
from dispatch_svc.handlers.web import WebRouting
from servicekit.auth import Principal


@dataclass
class _Accepting:
    """The accepts of one request in progress in this process: they go one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    won: Doc | None = None
    """The request as an accept under this lock won it: current for whoever waited meanwhile
    (their click came while it was being taken)."""


class Inbox:
    def __init__(
        self, requests: RequestRepository, technicians: TechnicianRepository, web: WebRouting, announce: Announcer
    ) -> None:
        self.requests = requests
        self.technicians = technicians
        self.web = web
        self.announce = announce
        self._accepting: dict[str, _Accepting] = {}
        """Accepts in progress in this process, by request (one at a time each)."""

    async def _companies(self, principal: Principal) -> tuple[Doc | None, list[str]]:
        technician = await self.technicians.get(principal.subject)
        return technician, accessible_companies(technician, principal.company_ids)

    async def requests_of(self, principal: Principal) -> list[Doc]:
        """Open offers made to the technician and requests assigned to them."""
        _, companies = await self._companies(principal)
        return await self.requests.inbox(principal.subject, companies)

    async def accept(self, principal: Principal, request_id: str) -> Doc:
        """Web: the first accept wins. Queue: acknowledges the assignment. Phone: confirms it.

        The acknowledgement publishes `RequestAcknowledged` (the request's account, company and
        assignment), staged in the write that records it: built from the assignment as this
        process made it, or else from the request read by `_id`. That write is filtered on the very
        unacknowledged assignment, so a repeated acknowledgement changes nothing and publishes
        nothing (nor does accepting what is already acknowledged: a Web or Phone assignment).

        Every technician offered a Web request clicks at once: this process handles the accepts
        of one request one at a time, and who waited starts from the request as the accept
        before won it, so whoever lost learns it without a store command. The first attempt acts on the
        offer as this process wrote it, when it did (the take's write is guarded by its
        revision). A refusal reads the technician's record, so that lost access is reported as
        such — except a lost race: the answer is the same whatever their access.
        """
        entry = self._accepting.setdefault(request_id, _Accepting())
        entry.users += 1
        try:
            async with entry.lock:
                return await self._accept(principal, request_id, entry)
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._accepting[request_id]

    async def _accept(self, principal: Principal, request_id: str, entry: _Accepting) -> Doc:
        me = principal.subject
        # A Queue assignment this process made: acknowledged without reading it first (the
        # write checks it is still theirs, unacknowledged, in a company they may serve).
        made = self.requests.awaiting_acknowledgement(request_id)
        if made is not None and made["technician_id"] == me:
            done = await self._acknowledge(made, company_ids=principal.company_ids)
            if done is not None:
                return done
        previous, known = entry.won, self.requests.open_offer(request_id)
        for _ in range(MAX_ATTEMPTS):
            request = await self._current(request_id, principal.company_ids, me, previous, known)
            previous = known = None
            try:
                if request["state"] == State.ASSIGNED:
                    if request["technician_id"] != me:
                        if request["mode"] == ConnectionMode.WEB:
                            raise AlreadyTaken()
                        raise NotAssignedToYou()
                    if request.get("acknowledged") is not False:
                        return request
                    done = await self._acknowledge(request)
                    if done is not None:
                        return done
                    continue  # requeued or acknowledged meanwhile: read it again
                if request["state"] in FINISHED:
                    raise RequestClosed(request["state"])
                if request["mode"] != ConnectionMode.WEB or request["state"] != State.OFFERED:
                    raise NotAssignedToYou()
                if me not in request["offered_to"]:
                    raise NotOfferedToYou()
                won = await self.web.take(request, me)
            except AlreadyTaken:
                raise
            except (AtCapacity, NotOfferedToYou, NotAssignedToYou, RequestClosed) as refusal:
                raise await self._lost_access(principal, request["company_id"]) or refusal from None
            if won is not None:
                entry.won = won
                return won
        raise AlreadyTaken()

    async def _current(self, request_id: str, companies: list[str], me: str, won: Doc | None, known: Doc | None) -> Doc:
        """The request to act on: as the accept before this one won it (current), else
        `known` when it is an offer to `me` (as this process wrote it, possibly stale: only a
        write guarded by its revision may act on it), else as read."""
        if won is not None and won["company_id"] in companies:
            return won
        if known is not None and known["company_id"] in companies and me in known["offered_to"]:
            return known
        return await self._visible(request_id, companies)

    async def _acknowledge(self, request: Doc, *, company_ids: list[str] | None = None) -> Doc | None:
        """Acknowledges the assignment as read, publishing `RequestAcknowledged` with it; None
        when it is no longer that unacknowledged assignment."""
        event = self.announce.about(request, announcements.acknowledged(request, now()))
        return await self.requests.apply_to_assignment(
            request["_id"],
            request["technician_id"],
            requests.acknowledge(request),
            company_ids=company_ids,
            unacknowledged=int(request.get("assignment", 1)),
            events=[event],
        )

    async def _lost_access(self, principal: Principal, company_id: str) -> NotYourCompany | None:
        """`NotYourCompany` when dispatch's record no longer grants the company."""
        _, companies = await self._companies(principal)
        return None if company_id in companies else NotYourCompany()

    async def _visible(self, request_id: str, companies: list[str]) -> Doc:
        return await visible_request(self.requests, request_id, companies)
