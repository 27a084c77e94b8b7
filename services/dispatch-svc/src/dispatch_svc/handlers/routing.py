"""Routing across modes: a new request to its mode's use case, and serving what waits when a
technician frees room. The mode modules never import this one (no cycle)."""

from contracts.vocabulary import ConnectionMode, WithdrawalReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain.request import State
from dispatch_svc.domain.technician import has_spare_capacity, routable_for
from dispatch_svc.handlers.common import Doc
from dispatch_svc.handlers.phone import PhoneRouting
from dispatch_svc.handlers.queue import QueueRouting
from dispatch_svc.handlers.web import WebRouting


class Router:
    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        queue: QueueRouting,
        web: WebRouting,
        phone: PhoneRouting,
    ) -> None:
        self.requests = requests
        self.technicians = technicians
        self.queue = queue
        self.web = web
        self.phone = phone

    async def route(self, request: Doc) -> None:
        """Routes a stored request that is still new (first delivery, redelivery or sweep)."""
        if request.get("state") != State.NEW:
            return
        match request["mode"]:
            case ConnectionMode.QUEUE:
                await self.queue.route(request)
            case ConnectionMode.WEB:
                await self.web.route(request)
            case ConnectionMode.PHONE:
                await self.phone.route(request)

    async def serve_company(self, company_id: str) -> None:
        """Serves the company's queue, then offers its open Web requests to whoever has room."""
        await self.queue.serve(company_id)
        await self.web.offer_open_requests([company_id], await self.technicians.eligible(company_id))

    async def serve_technician(self, technician: Doc) -> None:
        """The technician (as just stored) became available or freed room: serve what waits
        for them. Costs one query when nothing waits."""
        companies = [c for c in technician.get("company_ids", []) if routable_for(technician, c)]
        if not companies or not has_spare_capacity(technician):
            return
        waiting = await self.requests.waiting_states(companies)
        queued = sorted({company for company, state in waiting if state == State.QUEUED})
        for company_id in queued:
            await self.queue.serve(company_id)
        offered = sorted({company for company, state in waiting if state == State.OFFERED})
        if offered:
            if queued:
                technician = await self.technicians.get(technician["_id"]) or technician
            await self.web.offer_open_requests(offered, [technician])

    async def requeue(self, request: Doc, reason: WithdrawalReason) -> None:
        """An unacknowledged Queue assignment goes back to the queue; whoever has room serves it."""
        if await self.queue.requeue(request, reason):
            await self.serve_company(request["company_id"])
