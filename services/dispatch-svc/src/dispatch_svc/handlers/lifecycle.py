"""A request's life as the other services report it: submitted, cancelled, chat ended; and
the portals' status. Each reaction is safe to run twice."""

from datetime import timedelta

from contracts import ChatSessionEnded, Envelope, PortalConfigured, RequestCancelled, RequestSubmitted
from contracts.vocabulary import PortalStatus, RejectionReason, WithdrawalReason
from dispatch_svc.adapters.companies import DeletedCompanies
from dispatch_svc.adapters.portals import PortalRepository
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.request import CANCELLABLE, State
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc, Rejections
from dispatch_svc.handlers.companies import GONE_MESSAGE
from dispatch_svc.handlers.routing import Router
from servicekit import tracing
from servicekit.logging import get_logger

log = get_logger(__name__)


class RequestLifecycle:
    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        portals: PortalRepository,
        router: Router,
        announce: Announcer,
        rejections: Rejections,
        *,
        tombstone_lifetime: timedelta,
        deleted: DeletedCompanies | None = None,
    ) -> None:
        self.deleted = deleted
        """Companies deleted in portal-svc: a submission overtaking the deletion is refused."""
        self.tombstone_lifetime = tombstone_lifetime
        """How long a cancellation that overtook its submission waits live for it."""
        self.requests = requests
        self.technicians = technicians
        self.portals = portals
        self.router = router
        self.announce = announce
        self.rejections = rejections

    async def submitted(self, event: Envelope[RequestSubmitted], *, may_repeat: bool = True) -> None:
        """`may_repeat` False: this delivery is certainly the event's first (the broker says so),
        so its request cannot have been archived already."""
        data = event.data
        request = await self.requests.insert_new(
            {
                "_id": data.request_id,
                "account_id": data.account_id,
                "company_id": data.company_id,
                "portal_id": data.portal_id,
                "mode": data.mode.value,
                "portal_type": data.portal_type.value,
                "customer_name": data.customer_name,
                "description": data.description,
                "chosen_technician_id": data.chosen_technician_id,
                "connection_code": data.connection_code,
                "submitted_at": data.submitted_at,
                # FIFO key; kept when an unacknowledged request is put back, so it returns to the head.
                "queued_since": data.submitted_at,
                "correlation_id": event.correlation_id,
                # The submission's trace: a technician's later accept (its own HTTP request)
                # stages RequestAssigned in it, so one submission stays one trace.
                **_trace(),
                "offered_to": [],
                "assignment": 0,
                "created_at": now(),
            },
            may_repeat=may_repeat,
        )
        if request.get("state") != State.NEW:
            return
        portal = await self.portals.get(data.portal_id)
        if portal is not None and portal["status"] == PortalStatus.INACTIVE:
            await self.rejections.reject(request, RejectionReason.PORTAL_INACTIVE)
            return
        if self.deleted is not None and await self.deleted.is_deleted(data.company_id):
            await self.rejections.reject(request, RejectionReason.PORTAL_INACTIVE, GONE_MESSAGE)
            return
        await self.router.route(request)

    async def portal_configured(self, event: Envelope[PortalConfigured]) -> None:
        data = event.data
        await self.portals.record(
            data.portal_id,
            data.revision,
            {"company_id": data.company_id, "status": data.status.value, "mode": data.mode.value},
        )

    async def cancelled(self, event: Envelope[RequestCancelled]) -> None:
        """The customer cancelled: withdraw offers, leave the queue, free the technician."""
        data = event.data
        for _ in range(MAX_ATTEMPTS):
            request = await self.requests.get(data.request_id)
            if request is None:
                if await self.requests.archived(data.request_id) is not None:
                    return
                # Queues are independent: the cancellation may overtake the submission, which
                # then finds this in the live requests and stops there.
                at = now()
                placed = await self.requests.tombstone(
                    data.request_id,
                    {
                        "state": State.CANCELLED,
                        "company_id": data.company_id,
                        "account_id": data.account_id,
                        "finished_at": at,
                        "cancelled_before_submission": True,
                    },
                    keep_until=at + self.tombstone_lifetime,
                )
                if placed:
                    return
                continue  # the submission came in meanwhile: cancel it
            if request["state"] not in CANCELLABLE:
                await self._free_slot(request)
                return
            alerted = list(request.get("offered_to", [])) if request["state"] == State.OFFERED else []
            if request["state"] == State.ASSIGNED and not request.get("acknowledged"):
                alerted = [request["technician_id"]]
            emitted = (
                [self.announce.about(request, announcements.withdrawn(request, alerted, WithdrawalReason.CANCELLED))]
                if alerted
                else []
            )
            done = await self.requests.apply(request, requests.cancel(request, now()), emitted)
            if done is not None:
                log.info("request cancelled", request_id=request["_id"], was=request["state"])
                await self._free_slot(done)
                return

    async def session_ended(self, event: Envelope[ChatSessionEnded]) -> Doc | None:
        """The chat is over: the request is completed and the slot of that assignment is free.
        Returns the request as this found it (None when unknown)."""
        data = event.data
        change = requests.complete(requests.ASSIGNED_REQUEST, now())
        request = await self.requests.apply_to_assignment(data.request_id, data.technician_id, change)
        if request is None:  # already completed (a redelivery), or not this technician's
            request = await self.requests.live_or_archived(data.request_id)
        if request is not None:
            await self._free_slot(request, technician_id=data.technician_id)
        return request

    async def _free_slot(self, request: Doc, technician_id: str | None = None) -> None:
        """Frees the slot this request's assignment holds — that very claim only, so a later
        claim of the same technician for the same request keeps its slot."""
        technician_id = technician_id or request.get("technician_id")
        if not technician_id or not requests.holds_slot(request, technician_id) or "assigned_at" not in request:
            return
        after = await self.technicians.release_slot(technician_id, request["_id"], claimed_at=request["assigned_at"])
        if after is not None:
            await self.router.serve_technician(after)


def _trace() -> Doc:
    """The current trace context, to keep with the request (nothing when tracing is off)."""
    context = tracing.capture()
    return {"trace": context} if context is not None else {}
