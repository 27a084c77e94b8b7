"""A company deleted in portal-svc: its requests still waiting end, and none is taken again.

Every new, queued or offered request of the company is cancelled as a customer's
cancellation would be (offers withdrawn, so the technicians' alerts go), and announced with
`RequestCancelled` (reason `company_deleted`) carrying the sentence the customer's waiting
screen ends with. Requests already assigned are left to the chat: portal-svc took the company
from every technician before deleting it, which returns their unacknowledged assignments.
Safe to run twice: each cancellation is conditional on the request's state.
"""

from contracts import CompanyUpdated, Envelope, RequestCancelled
from contracts.vocabulary import WithdrawalReason
from dispatch_svc.adapters.companies import DeletedCompanies
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.request import State
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc
from servicekit.logging import get_logger

log = get_logger(__name__)

COMPANY_DELETED = "company_deleted"
GONE_MESSAGE = "This company no longer offers support here."
CANCELLED_MESSAGE = f"{GONE_MESSAGE} Your request was cancelled."
UNSERVED = frozenset({State.NEW, State.QUEUED, State.OFFERED})


class CompanyDeletions:
    def __init__(self, requests: RequestRepository, deleted: DeletedCompanies, announce: Announcer) -> None:
        self.requests = requests
        self.deleted = deleted
        self.announce = announce

    async def company_updated(self, event: Envelope[CompanyUpdated]) -> None:
        data = event.data
        if not data.deleted:
            return
        await self.deleted.record(data.company_id, data.account_id, now())
        cancelled = await self._cancel_unserved(data.company_id)
        log.info("company deleted: waiting requests cancelled", company_id=data.company_id, cancelled=cancelled)

    async def cancel_waiting(self, company_ids: list[str]) -> None:
        """Cancels what waits for any deleted company of `company_ids` (the sweeper's list of
        companies with waiting requests): a submission another worker routed before its copy
        of the deleted companies had the deletion."""
        deleted = await self.deleted.all()
        for company_id in company_ids:
            if company_id in deleted:
                cancelled = await self._cancel_unserved(company_id)
                log.info("deleted company: late requests cancelled", company_id=company_id, cancelled=cancelled)

    async def _cancel_unserved(self, company_id: str) -> int:
        cancelled = 0
        for request in await self.requests.unserved_of(company_id):
            cancelled += await self._cancel(request)
        return cancelled

    async def _cancel(self, request: Doc | None) -> bool:
        for _ in range(MAX_ATTEMPTS):
            if request is None or request["state"] not in UNSERVED:
                return False
            alerted = list(request.get("offered_to", [])) if request["state"] == State.OFFERED else []
            withdrawn = announcements.withdrawn(request, alerted, WithdrawalReason.CANCELLED)
            emitted = [self.announce.about(request, withdrawn)] if alerted else []
            emitted.append(
                self.announce.about(
                    request,
                    RequestCancelled(
                        request_id=request["_id"],
                        account_id=request["account_id"],
                        company_id=request["company_id"],
                        reason=COMPANY_DELETED,
                        message=CANCELLED_MESSAGE,
                    ),
                )
            )
            if await self.requests.apply(request, requests.cancel(request, now()), emitted) is not None:
                return True
            request = await self.requests.get(request["_id"])  # changed meanwhile: read it again
        return False
