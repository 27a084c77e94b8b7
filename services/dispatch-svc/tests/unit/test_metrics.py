"""Dispatch's domain figures: recorded when an event is published, from what its request said."""

from datetime import UTC, datetime, timedelta

from contracts import Envelope
from contracts.vocabulary import WithdrawalReason
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.entrypoints.metrics import DispatchMetrics, MeasuredAnnouncer
from servicekit.metrics import Metrics
from testkit.metrics import Samples

SUBMITTED = datetime(2026, 1, 1, 12, tzinfo=UTC)
OFFER_TIMEOUT = 30.0


def request(mode: str, state: str = "new", **fields) -> dict:
    return {
        "_id": "req_1",
        "account_id": "acc_1",
        "company_id": "cmp_1",
        "correlation_id": "corr_1",
        "mode": mode,
        "portal_type": "smart_box",
        "customer_name": "Casey",
        "state": state,
        "submitted_at": SUBMITTED,
        "queued_since": SUBMITTED,
        **fields,
    }


def wired() -> tuple[Metrics, MeasuredAnnouncer]:
    metrics = Metrics("dispatch-svc")
    dispatch = DispatchMetrics(metrics, offer_timeout=OFFER_TIMEOUT)

    def make_event(payload, *, correlation_id):
        return Envelope[type(payload)].of(payload, producer="dispatch-svc", correlation_id=correlation_id)

    return metrics, MeasuredAnnouncer(make_event, dispatch)


def scraped(metrics: Metrics) -> Samples:
    return Samples.parse(metrics.exposition().decode())


def test_a_web_request_measures_submit_to_offered_then_accept_and_submit_to_assigned():
    metrics, announce = wired()
    offered_at = SUBMITTED + timedelta(seconds=2)
    first = announce.about(request("web"), announcements.offered(request("web"), ["tec_a"], offered_at))
    metrics.event_published(first)
    # Offered again after expiry: not a second submit→offered.
    expires = offered_at + timedelta(seconds=OFFER_TIMEOUT)
    again = announce.about(
        request("web", "offered", offer_expires_at=expires),
        announcements.offered(request("web", "offered"), ["tec_a"], expires),
    )
    metrics.event_published(again)
    live = request("web", "offered", offered_to=["tec_a"], offer_expires_at=expires)
    change = requests.assign(live, "tec_a", offered_at + timedelta(seconds=5), acknowledged=True)
    metrics.event_published(announce.about(live, announcements.assigned(live, change.set, alert=False)))

    samples = scraped(metrics)
    assert samples.value("assistline_request_submit_to_offered_seconds_count", mode="web") == 1
    assert samples.value("assistline_requests_assigned_total", mode="web") == 1
    assert samples.value("assistline_request_submit_to_assigned_seconds_count", mode="web") == 1
    assert samples.value("assistline_request_submit_to_assigned_seconds_sum", mode="web") == 7
    # From the (last) offer, which expires OFFER_TIMEOUT after it was made, to the accept.
    assert samples.value("assistline_request_accept_seconds_sum", mode="web") == 5


def test_an_event_whose_write_lost_the_race_counts_for_nothing():
    metrics, announce = wired()
    live = request("queue", "queued")
    change = requests.assign(live, "tec_a", SUBMITTED + timedelta(seconds=1), acknowledged=False)
    announce.about(live, announcements.assigned(live, change.set, alert=True))  # built, never published
    samples = scraped(metrics)
    assert samples.value("assistline_requests_assigned_total", mode="queue") == 0
    assert samples.value("assistline_request_submit_to_assigned_seconds_count", mode="queue") == 0


def test_expired_offers_and_lapsed_assignments_are_told_apart():
    metrics, announce = wired()
    offered = request("web", "offered", offered_to=["tec_a"])
    metrics.event_published(
        announce.about(offered, announcements.withdrawn(offered, ["tec_a"], WithdrawalReason.EXPIRED))
    )
    assigned = request("queue", "assigned", technician_id="tec_a")
    metrics.event_published(
        announce.about(assigned, announcements.withdrawn(assigned, ["tec_a"], WithdrawalReason.EXPIRED))
    )
    taken = request("web", "offered", offered_to=["tec_b"])
    metrics.event_published(announce.about(taken, announcements.withdrawn(taken, ["tec_b"], WithdrawalReason.TAKEN)))
    samples = scraped(metrics)
    assert samples.value("assistline_offers_expired_total") == 1
    assert samples.value("assistline_assignments_lapsed_total") == 1
