"""Technicians as the other services report them: the admin's record (`TechnicianUpdated`)
and presence (`TechnicianAvailable` / `TechnicianUnavailable`). Each is safe to run twice."""

from contracts import Envelope, TechnicianAvailable, TechnicianUnavailable, TechnicianUpdated
from contracts.vocabulary import WithdrawalReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.handlers.phone import ConnectionCodes
from dispatch_svc.handlers.routing import Router
from dispatch_svc.handlers.web import WebRouting
from servicekit.logging import get_logger

log = get_logger(__name__)


class TechnicianRoster:
    def __init__(
        self,
        technicians: TechnicianRepository,
        requests: RequestRepository,
        router: Router,
        web: WebRouting,
        codes: ConnectionCodes,
    ) -> None:
        self.technicians = technicians
        self.requests = requests
        self.router = router
        self.web = web
        self.codes = codes

    async def available(self, event: Envelope[TechnicianAvailable]) -> None:
        data = event.data
        technician = await self.technicians.record_presence(
            data.technician_id,
            data.account_id,
            data.sequence,
            {"available": True, "available_for": data.company_ids, "display_name": data.display_name},
            admin_fields={"company_ids": data.company_ids, "capacity": data.capacity},
        )
        if technician is None:
            log.info("stale availability ignored", technician_id=data.technician_id, sequence=data.sequence)
            return
        await self.router.serve_technician(technician)

    async def unavailable(self, event: Envelope[TechnicianUnavailable]) -> None:
        data = event.data
        technician = await self.technicians.record_presence(
            data.technician_id, data.account_id, data.sequence, {"available": False}, admin_fields={}
        )
        if technician is None:
            log.info("stale unavailability ignored", technician_id=data.technician_id, sequence=data.sequence)
            return
        await self.step_back(data.technician_id, None)

    async def updated(self, event: Envelope[TechnicianUpdated]) -> None:
        """The admin's record: companies, capacity, enabled. Losing a company (or every one)
        takes effect at once: offers withdrawn, unacknowledged assignments requeued, codes revoked."""
        data = event.data
        applied, before = await self.technicians.record_admin(
            data.technician_id,
            data.account_id,
            data.revision,
            {
                "company_ids": data.company_ids,
                "capacity": data.capacity,
                "enabled": data.enabled,
                "display_name": data.display_name,
            },
        )
        if not applied:
            return
        lost = None if not data.enabled else sorted(set((before or {}).get("company_ids", [])) - set(data.company_ids))
        if lost is None or lost:
            await self.step_back(data.technician_id, lost)
            await self.codes.revoke_lost_access(data.technician_id, data.account_id, lost)
        if data.enabled:
            technician = await self.technicians.get(data.technician_id)
            if technician is not None:
                await self.router.serve_technician(technician)

    async def step_back(self, technician_id: str, company_ids: list[str] | None) -> None:
        """The technician can no longer take requests (of `company_ids`, or at all)."""
        offers, assignments = await self.requests.stepping_back(technician_id, company_ids)
        await self.web.withdraw_offers(technician_id, offers)
        for request in assignments:
            await self.router.requeue(request, WithdrawalReason.TECHNICIAN_UNAVAILABLE)
