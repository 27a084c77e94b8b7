"""Queue mode: FIFO per company, round robin among technicians with room, acknowledgement.

Claims go in a fixed order — first a capacity slot on the technician, then the request
(conditional on its revision) — and a lost request claim gives the slot back. A crash
between the two leaves a dated slot that the sweeper frees, after bumping the request's
revision so that a claim still in flight can no longer land.
"""

from datetime import timedelta
from enum import StrEnum

from contracts.vocabulary import WithdrawalReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import SlotClaim, TechnicianRepository
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.queueing import may_skip_the_queue
from dispatch_svc.domain.request import State
from dispatch_svc.domain.technician import round_robin
from dispatch_svc.handlers.clock import now
from dispatch_svc.handlers.common import MAX_ATTEMPTS, Announcer, Doc
from servicekit.logging import get_logger

log = get_logger(__name__)


class Assignment(StrEnum):
    ASSIGNED = "assigned"
    LOST = "lost"
    """Someone else changed the request meanwhile (assigned, cancelled, ...)."""
    NOBODY_FREE = "nobody_free"


class QueueRouting:
    def __init__(
        self,
        requests: RequestRepository,
        technicians: TechnicianRepository,
        announce: Announcer,
        *,
        accept_timeout: float,
    ) -> None:
        self.requests = requests
        self.technicians = technicians
        self.announce = announce
        self.ack_within = timedelta(seconds=accept_timeout)

    async def route(self, request: Doc) -> None:
        """A new request: to a technician at once if it heads its company's line, else queued."""
        waiting = await self.requests.waiting(request["company_id"])
        if may_skip_the_queue(request, waiting):
            outcome = await self.assign(request)
            if outcome is Assignment.ASSIGNED:
                return
            if outcome is Assignment.LOST:
                fresh = await self.requests.get(request["_id"])
                if fresh is None or fresh["state"] != State.NEW:
                    return
                request = fresh
        queued_ahead = [w for w in requests.ahead_of(request, waiting) if w["state"] == State.QUEUED]
        event = self.announce.about(request, announcements.queued(request, len(queued_ahead) + 1))
        if await self.requests.apply(request, requests.queue(request), [event]):
            # A technician may have freed a slot while this request was being queued.
            await self.serve(request["company_id"])

    async def assign(self, request: Doc, technicians: list[Doc] | None = None) -> Assignment:
        """Gives a new or queued request to the round-robin technician."""
        if technicians is None:
            technicians = await self.technicians.eligible(request["company_id"])
        for technician in round_robin(technicians, passed_over=request.get("passed_over", [])):
            at = now()
            claim = await self.technicians.claim_slot(
                technician["_id"], request["_id"], at, company_id=request["company_id"], routable=True
            )
            if claim is not SlotClaim.CLAIMED:
                continue
            change = requests.assign(request, technician["_id"], at, acknowledged=False, ack_within=self.ack_within)
            event = self.announce.about(request, announcements.assigned(request, change.set, alert=True))
            if await self.requests.apply(request, change, [event]) is not None:
                log.info("request assigned", request_id=request["_id"], technician_id=technician["_id"])
                return Assignment.ASSIGNED
            await self.technicians.release_slot(technician["_id"], request["_id"], claimed_at=at)
            return Assignment.LOST
        return Assignment.NOBODY_FREE

    async def serve(self, company_id: str) -> None:
        """Serves the company's queue, oldest first, while a technician has room."""
        for _ in range(MAX_ATTEMPTS):
            # Technicians are few and requests many: look for room before scanning the queue.
            technicians = await self.technicians.eligible(company_id)
            if not round_robin(technicians):
                return
            head = await self.requests.oldest_queued(company_id)
            if head is None or await self.assign(head, technicians) is Assignment.NOBODY_FREE:
                return

    async def requeue(self, request: Doc, reason: WithdrawalReason) -> bool:
        """An unacknowledged assignment goes back to the head of the queue; its slot is freed."""
        technician_id = request["technician_id"]
        waiting = await self.requests.waiting(request["company_id"])
        position = len([w for w in requests.ahead_of(request, waiting) if w["state"] == State.QUEUED]) + 1
        done = await self.requests.apply(
            request,
            requests.requeue(request),
            [
                self.announce.about(request, announcements.withdrawn(request, [technician_id], reason)),
                self.announce.about(request, announcements.queued(request, position)),
            ],
        )
        if done is None:
            return False
        log.info("assignment lapsed, request back in the queue", request_id=request["_id"], reason=reason.value)
        await self.technicians.release_slot(technician_id, request["_id"], claimed_at=request.get("assigned_at"))
        return True
