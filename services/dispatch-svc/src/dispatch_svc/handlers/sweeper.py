"""The periodic sweeper: repairs whatever an event missed, so nothing stays stuck.

Every worker runs it; each repair is a conditional write, so concurrent sweeps are safe.
Repairs are independent: one that fails is logged and the others of the tick still run.
"""

import time
from collections.abc import Awaitable
from datetime import datetime, timedelta

from contracts.vocabulary import ConnectionMode, WithdrawalReason
from dispatch_svc.adapters.codes import CodeRepository
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.request import State
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import Doc
from dispatch_svc.handlers.companies import CompanyDeletions
from dispatch_svc.handlers.invitation import Invitations
from dispatch_svc.handlers.phone import ConnectionCodes
from dispatch_svc.handlers.routing import Router
from dispatch_svc.handlers.transfer import Transfers
from servicekit.logging import get_logger
from servicekit.outbox import TRANSIENT

log = get_logger(__name__)


class Sweeper:
    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        codes: CodeRepository,
        router: Router,
        connection_codes: ConnectionCodes,
        transfers: Transfers,
        invitations: Invitations,
        companies: CompanyDeletions,
        *,
        stuck_after: float,
    ) -> None:
        self.companies = companies
        self.transfers = transfers
        self.invitations = invitations
        self.requests = requests
        self.technicians = technicians
        self.codes = codes
        self.router = router
        self.connection_codes = connection_codes
        self.stuck_after = timedelta(seconds=stuck_after)
        self.forget_every = connection_codes.settings.code_failure_window_seconds
        self._failures_forgotten_at = float("-inf")

    async def tick(self) -> int:
        """One sweep; returns how many repairs failed (each is logged)."""
        at = now()
        stuck = at - self.stuck_after
        failed = 0
        # One query per collection per tick: every query is a full scan on the embedded store.
        view = await self.requests.sweep_view(at, stuck)
        for request in view.due:
            failed += await self._attempt(self._repair(request, at), "request", request["_id"])
        repair = self.companies.cancel_waiting(view.waiting_companies)
        failed += await self._attempt(repair, "deleted companies", "-")
        for company_id in view.overdue_companies:
            failed += await self._attempt(self.router.serve_company(company_id), "company", company_id)
        if view.finished:
            failed += await self._attempt(self.requests.archive_finished(view.finished), "archive", "-")
        holding = await self.technicians.holding_slots_or_codes()
        for technician in holding:
            for request_id in technician.get("active", []):
                claimed_at = technician.get("claimed_at", {}).get(request_id)
                if claimed_at and claimed_at < stuck:
                    repair = self._free_orphaned_slot(technician["_id"], request_id, claimed_at)
                    failed += await self._attempt(repair, "slot", f"{technician['_id']}/{request_id}")
        failed += await self._sweep_codes(stuck, holding)
        return failed

    async def _attempt(self, repair: Awaitable[object], kind: str, key: str) -> int:
        try:
            await repair
        except TRANSIENT:
            raise  # the store or broker is down: the whole tick is retried
        except Exception:
            log.exception("sweeper repair failed; the others go on", kind=kind, key=key)
            return 1
        return 0

    async def _repair(self, request: Doc, at: datetime) -> None:
        if request["state"] in requests.FINISHED:
            await self.invitations.chat_over(request)
        elif request.get("transfer") is not None:
            await self.transfers.lapse(request)
        elif request.get("invitation") is not None:
            await self.invitations.lapse(request)
        elif request["state"] == State.NEW:
            log.info("re-routing a request left new", request_id=request["_id"])
            await self.router.route(request)
        elif request["state"] == State.OFFERED:
            await self.router.web.reoffer(request)
        elif request["mode"] == ConnectionMode.QUEUE and not request.get("acknowledged"):
            await self.router.requeue(request, WithdrawalReason.EXPIRED)

    async def _free_orphaned_slot(self, technician_id: str, request_id: str, claimed_at: datetime) -> None:
        if not await self._orphaned(technician_id, request_id):
            return
        log.info("freeing a slot its request no longer uses", technician_id=technician_id, request_id=request_id)
        after = await self.technicians.release_slot(technician_id, request_id, claimed_at=claimed_at)
        if after is not None:
            await self.router.serve_technician(after)

    async def _orphaned(self, technician_id: str, request_id: str) -> bool:
        """True when the slot's request is not assigned to the technician (nor do they take
        part in its chat as a guest) and never will be.

        A claimer that took the slot but has not claimed the request yet (a slow write, or a
        crash) would claim it with the revision it read; bumping that revision first makes
        such a late claim fail, so the slot can be freed without ever letting capacity slip.
        """
        request = await self.requests.get(request_id)
        if request is None:
            return True
        if request["state"] == State.ASSIGNED and technician_id in (
            request.get("technician_id"),
            *requests.guest_ids(request),
        ):
            return False  # the chat's technician's slot, or a guest's
        return await self.requests.apply(request, requests.fence(request, now())) is not None

    async def _sweep_codes(self, stuck: datetime, holding: list[Doc]) -> int:
        failed = 0
        for code in await self.codes.retirable(now()):
            user = await self.requests.get(code["used_by"]) if code.get("used_by") else None
            if user is not None and user["state"] == State.NEW:
                continue  # its request is still being connected
            failed += await self._attempt(self.connection_codes.retire(code), "code", code["_id"])
        for technician in holding:
            for code_id in technician.get("code_ids", []):
                claimed_at = technician.get("code_claimed_at", {}).get(code_id)
                if claimed_at and claimed_at < stuck and not await self.codes.exists(code_id):
                    await self.technicians.release_code_slot(technician["_id"], code_id)
        # Failure counters live per window (a minute by default): forgetting them once per
        # window is enough, and saves a write per tick.
        if time.monotonic() - self._failures_forgotten_at >= self.forget_every:
            self._failures_forgotten_at = time.monotonic()
            failed += await self._attempt(self.connection_codes.forget_old_failures(), "failures", "-")
        return failed
