"""Flat with data: a request's alerts live in ONE document addressed by `_id`, and settled
requests leave the live collection for the history, which forgets them after the retention."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from presence_support.helpers import ACCOUNT, company_with_portal, drained, help_center, offer, publish, staff, uid

from contracts import Envelope, EventPayload, RequestAssigned, RequestOffered, RequestOfferWithdrawn
from contracts.vocabulary import ConnectionMode, PortalType, WithdrawalReason

pytestmark = pytest.mark.integration


def envelope(data: EventPayload, at: datetime) -> Envelope[Any]:
    event: Envelope[Any] = Envelope[type(data)].of(data, producer="test", correlation_id=uid("corr"))  # type: ignore[misc]
    return event.model_copy(update={"occurred_at": at})


async def test_settled_requests_leave_the_live_collection_and_the_history_forgets_them(presence, client):
    company = await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    ben, ben_token = await staff(presence, client, company)
    alerts = presence.handlers.alerts
    live, history = alerts.alerts.collection, alerts.alerts.history
    async with help_center(presence.base_url, ana_token) as ana_tab, help_center(presence.base_url, ben_token):
        t0 = datetime.now(UTC)
        request = uid("req")
        offered = envelope(offer(request, company, [ana, ben]), t0)
        await alerts.offered(offered)
        doc = await live.find_one({"_id": request})
        assert sorted(doc["holders"]) == sorted([ana, ben])  # both alerts in one document

        at = t0 + timedelta(milliseconds=10)
        common = {"request_id": request, "account_id": ACCOUNT, "company_id": company}
        taken = RequestAssigned(
            **common,
            technician_id=ben,
            mode=ConnectionMode.WEB,
            portal_type=PortalType.SMART_BOX,
            customer_name="Bob",
            alert=False,
            assigned_at=at,
        )
        await alerts.assigned(envelope(taken, at))
        await ana_tab.wait_for(lambda f: f["type"] == "alert_withdrawn" and f["request_id"] == request)
        withdrawn = RequestOfferWithdrawn(**common, technician_ids=[ana], reason=WithdrawalReason.TAKEN)
        await alerts.offer_withdrawn(envelope(withdrawn, at))  # crossed with the assignment: nothing more
        doc = await live.find_one({"_id": request})
        assert doc["holders"] == [] and doc["settle_at"] > datetime.now(UTC)

        # The offer again (redelivered, or late behind the assignment): no alert.
        await publish(presence.rabbitmq_url, offered.data, occurred_at=t0, event_id=offered.event_id)
        probe = uid("req")
        await publish(presence.rabbitmq_url, offer(probe, company, [ana]))
        await ana_tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == probe)
        await drained(ana_tab)
        assert [f["request_id"] for f in ana_tab.of_type("alert")] == [request, probe]

    # Nothing settles before its time...
    assert await alerts.alerts.settle_due(datetime.now(UTC)) == 0
    # ...then the settle tick moves it (and the probe, whose offer expired by then) out.
    settled = doc["settle_at"] + timedelta(seconds=1)
    assert await alerts.alerts.settle_due(settled) >= 2
    assert await live.find_one({"_id": request}) is None and await live.find_one({"_id": probe}) is None
    moved = await history.find_one({"_id": request})
    assert moved["closed_at"] is not None and moved["purge_at"] > settled

    # A very late copy of the offer cannot come back: its offer has expired (in the past
    # whatever the test's speed).
    late = RequestOffered(
        **{**offer(request, company, [ana]).model_dump(), "expires_at": datetime.now(UTC) - timedelta(seconds=1)}
    )
    await alerts.offered(envelope(late, t0))
    assert await live.find_one({"_id": request}) is None

    # The history forgets after the retention (its own, rarer tick), not before.
    await alerts.alerts.forget_history(moved["purge_at"] - timedelta(seconds=1))
    assert await history.find_one({"_id": request}) is not None
    assert await alerts.alerts.forget_history(moved["purge_at"] + timedelta(seconds=1)) >= 1
    assert await history.find_one({"_id": request}) is None
