"""Dispatch's domain figures for Prometheus, derived from the events it publishes.

The events say what happened (an assignment, an expired offer); the request document they
were built from says since when (`submitted_at`, the offer's expiry). `MeasuredAnnouncer`
notes those facts when an event is built and the figure is recorded once the event is
published, so an event whose write lost a race (never published) counts for nothing.
What a replica publishes for a document another one wrote (the outbox sweeper after a
crash) still counts; only its latency is unknown there and left out.

Gauges of shared state (requests waiting per company, technicians available) come from a
periodic read: the same on every replica, aggregate with `max`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope, EventPayload, RequestAssigned, RequestOffered, RequestOfferWithdrawn, RequestRejected
from contracts.vocabulary import ConnectionMode, WithdrawalReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.adapters.technicians import TechnicianRepository
from dispatch_svc.domain.request import State
from dispatch_svc.handlers.common import Announcer, MakeEvent
from dispatch_svc.handlers.inbox import Inbox
from servicekit.auth import Principal
from servicekit.metrics import Metrics, Once, Pending


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds(later: datetime, earlier: datetime) -> float:
    return max(0.0, (_utc(later) - _utc(earlier)).total_seconds())


@dataclass(frozen=True)
class Facts:
    """What the request document said when an event about it was built."""

    mode: str
    state: str
    submitted_at: datetime | None
    offered_at: datetime | None


class DispatchMetrics:
    def __init__(self, metrics: Metrics, *, offer_timeout: float) -> None:
        self._offer_timeout = timedelta(seconds=offer_timeout)
        self._facts: Pending[Facts] = Pending()
        self._offered = Once()
        self.assigned = metrics.counter(
            "requests_assigned_total", "Assignments (a re-assigned Queue request counts again).", ["mode"]
        )
        self.rejected = metrics.counter("requests_rejected_total", "Requests rejected, by reason.", ["reason"])
        self.submit_to_offered = metrics.histogram(
            "request_submit_to_offered_seconds", "From submission to the first offer to technicians.", ["mode"]
        )
        self.submit_to_assigned = metrics.histogram(
            "request_submit_to_assigned_seconds", "From submission to the (first) assignment.", ["mode"]
        )
        self.accept = metrics.histogram(
            "request_accept_seconds",
            "How long technicians take to accept: from the offer (Web) or the alerting assignment (Queue).",
            ["mode"],
        )
        self.offers_expired = metrics.counter("offers_expired_total", "Offers nobody accepted in time (made again).")
        self.assignments_lapsed = metrics.counter(
            "assignments_lapsed_total", "Queue assignments not acknowledged in time: back in the queue."
        )
        self.waiting = metrics.gauge(
            "requests_waiting",
            "Requests queued or offered, per company (periodic read; aggregate with max).",
            ["company_id"],
        )
        self.technicians_available = metrics.gauge(
            "technicians_available", "Technicians available to dispatch (periodic read; aggregate with max)."
        )
        metrics.on_published(self.published)

    def note(self, event: Envelope[Any], request: Mapping[str, Any]) -> None:
        expires_at = request.get("offer_expires_at")
        self._facts.note(
            str(event.event_id),
            Facts(
                mode=str(request.get("mode", "")),
                state=str(request.get("state", "")),
                submitted_at=request.get("submitted_at"),
                offered_at=expires_at - self._offer_timeout if isinstance(expires_at, datetime) else None,
            ),
        )

    def published(self, event: Envelope[Any]) -> None:
        facts = self._facts.take(str(event.event_id))
        data = event.data
        if isinstance(data, RequestAssigned):
            self._assigned(data, facts)
        elif isinstance(data, RequestOffered):
            if facts and facts.submitted_at and self._offered.first(data.request_id):
                self.submit_to_offered.labels(facts.mode).observe(_seconds(event.occurred_at, facts.submitted_at))
        elif isinstance(data, RequestOfferWithdrawn):
            if facts and facts.state == State.ASSIGNED:
                self.assignments_lapsed.inc()
            elif facts and data.reason == WithdrawalReason.EXPIRED:
                self.offers_expired.inc()
        elif isinstance(data, RequestRejected):
            self.rejected.labels(data.reason.value).inc()

    def _assigned(self, data: RequestAssigned, facts: Facts | None) -> None:
        mode = data.mode.value
        self.assigned.labels(mode).inc()
        if facts is None:
            return
        if data.assignment == 1 and facts.submitted_at:
            self.submit_to_assigned.labels(mode).observe(_seconds(data.assigned_at, facts.submitted_at))
        if mode == ConnectionMode.WEB and facts.offered_at:
            self.accept.labels(mode).observe(_seconds(data.assigned_at, facts.offered_at))

    def acknowledged(self, request: Mapping[str, Any]) -> None:
        """A Queue assignment was acknowledged (no event says so: the accept returns it)."""
        assigned_at = request.get("assigned_at")
        if request.get("mode") == ConnectionMode.QUEUE and isinstance(assigned_at, datetime):
            self.accept.labels(ConnectionMode.QUEUE.value).observe(_seconds(datetime.now(UTC), assigned_at))

    def refresher(self, requests: RequestRepository, technicians: TechnicianRepository):
        async def refresh() -> None:
            counts = await requests.waiting_per_company()
            self.waiting.clear()
            for company_id, count in counts.items():
                self.waiting.labels(company_id).set(count)
            self.technicians_available.set(await technicians.available_count())

        return refresh


class MeasuredAnnouncer(Announcer):
    """The announcer, noting for the metrics what each event's request said."""

    def __init__(self, make_event: MakeEvent, metrics: DispatchMetrics) -> None:
        super().__init__(make_event)
        self._metrics = metrics

    def about(self, request: Mapping[str, Any], payload: EventPayload) -> Envelope[Any]:
        event = super().about(request, payload)
        self._metrics.note(event, request)
        return event


class MeasuredInbox(Inbox):
    """The inbox, timing a Queue assignment's acknowledgement."""

    def __init__(self, *args: Any, metrics: DispatchMetrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._metrics = metrics

    async def accept(self, principal: Principal, request_id: str) -> dict[str, Any]:
        request = await super().accept(principal, request_id)
        self._metrics.acknowledged(request)
        return request
