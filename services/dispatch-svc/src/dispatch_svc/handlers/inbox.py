"""What a technician does over HTTP with requests: see theirs, accept one.

Access is decided from dispatch's own record of the technician (`TechnicianUpdated`), the
token proving only who they are."""

from contracts.vocabulary import ConnectionMode
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.errors import (
    AlreadyTaken,
    AtCapacity,
    NotAssignedToYou,
    NotOfferedToYou,
    NotYourCompany,
    RequestClosed,
    RequestNotFound,
)
from dispatch_svc.domain.request import FINISHED, State
from dispatch_svc.domain.technician import accessible_companies
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Doc
from dispatch_svc.handlers.web import WebRouting
from servicekit.auth import Principal


class Inbox:
    def __init__(self, requests: RequestRepository, technicians: TechnicianRepository, web: WebRouting) -> None:
        self.requests = requests
        self.technicians = technicians
        self.web = web

    async def _companies(self, principal: Principal) -> tuple[Doc | None, list[str]]:
        technician = await self.technicians.get(principal.subject)
        return technician, accessible_companies(technician, principal.company_ids)

    async def requests_of(self, principal: Principal) -> list[Doc]:
        """Open offers made to the technician and requests assigned to them."""
        _, companies = await self._companies(principal)
        return await self.requests.inbox(principal.subject, companies)

    async def accept(self, principal: Principal, request_id: str) -> Doc:
        """Web: the first accept wins. Queue: acknowledges the assignment. Phone: confirms it.

        The usual paths read nothing they do not write: acknowledging is one write, and taking
        an offer claims the slot under a filter that checks the technician's current record.
        A refusal reads the record, so that lost access is reported as such."""
        me = principal.subject
        # Acknowledging an assignment dispatch gave this technician (under their access then;
        # losing a company requeues what is unacknowledged) is one write.
        acknowledge = requests.acknowledge(requests.ASSIGNED_REQUEST)
        done = await self.requests.apply_to_assignment(request_id, me, acknowledge, company_ids=principal.company_ids)
        if done is not None:
            return done
        for _ in range(MAX_ATTEMPTS):
            request = await self._visible(request_id, principal.company_ids)
            try:
                if request["state"] == State.ASSIGNED:
                    if request["technician_id"] != me:
                        raise AlreadyTaken() if request["mode"] == ConnectionMode.WEB else NotAssignedToYou()
                    done = await self.requests.apply_to_assignment(request_id, me, acknowledge)
                    if done is not None:
                        return done
                    continue
                if request["state"] in FINISHED:
                    raise RequestClosed(request["state"])
                if request["mode"] != ConnectionMode.WEB or request["state"] != State.OFFERED:
                    raise NotAssignedToYou()
                if me not in request["offered_to"]:
                    raise NotOfferedToYou()
                won = await self.web.take(request, me)
            except (AtCapacity, NotOfferedToYou, NotAssignedToYou, AlreadyTaken, RequestClosed) as refusal:
                raise await self._lost_access(principal, request["company_id"]) or refusal from None
            if won is not None:
                return won
        raise AlreadyTaken()

    async def _lost_access(self, principal: Principal, company_id: str) -> NotYourCompany | None:
        """`NotYourCompany` when dispatch's record no longer grants the company."""
        _, companies = await self._companies(principal)
        return None if company_id in companies else NotYourCompany()

    async def _visible(self, request_id: str, companies: list[str]) -> Doc:
        request = await self.requests.get(request_id)
        if request is None:
            archived = await self.requests.archived(request_id)
            if archived is None:
                raise RequestNotFound(request_id)
            if archived["company_id"] not in companies:
                raise NotYourCompany()
            raise RequestClosed(archived["state"])
        if request["company_id"] not in companies:
            raise NotYourCompany()
        return request
