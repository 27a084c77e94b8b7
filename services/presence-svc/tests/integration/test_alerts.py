"""Alerts (HelpAlert): the right technicians only, withdrawal, e-mail through SMTP."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from presence_support.helpers import (
    ACCOUNT,
    company_with_portal,
    drained,
    help_center,
    offer,
    publish,
    staff,
    technician,
    uid,
)
from presence_support.instance import Presence

from contracts import RequestAssigned, RequestCancelled, RequestOfferWithdrawn
from contracts.vocabulary import ConnectionMode, PortalType, WithdrawalReason
from presence_svc.config import Settings
from testkit import bearer, eventually
from testkit.backends import isolated_vhost

pytestmark = pytest.mark.integration


async def test_an_offer_alerts_only_connected_available_technicians_of_that_company(presence, client, smtp_sink):
    company, elsewhere = await company_with_portal(presence), await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company, contact=f"{uid('ana')}@example.com")
    bob, bob_token = await staff(presence, client, company, available=False, contact=f"{uid('bob')}@example.com")
    eve, eve_token = await staff(presence, client, elsewhere, contact=f"{uid('eve')}@example.com")
    dan, _ = await staff(presence, client, company, contact=f"{uid('dan')}@example.com")  # never connects
    ana_mail = (await client.get(presence.base_url + "/api/presence/me/preferences", headers=bearer(ana_token))).json()

    async with (
        help_center(presence.base_url, ana_token) as ana_tab,
        help_center(presence.base_url, bob_token) as bob_tab,
        help_center(presence.base_url, eve_token) as eve_tab,
    ):
        request = uid("req")
        # Eve is listed by mistake: she cannot see this company and must get nothing.
        offered = await publish(presence.rabbitmq_url, offer(request, company, [ana, bob, eve, dan]))
        alert = await ana_tab.wait_for(lambda f: f["type"] == "alert")
        assert alert == {
            "type": "alert",
            "request_id": request,
            "company_id": company,
            "customer_name": "Bob Customer",
            "description": "My printer is on fire",
            "portal_type": "smart_box",
            "expires_at": offered.data.expires_at.isoformat(),
            "sound": False,
            "kind": "offer",
        }
        mail = await smtp_sink.wait_for(lambda m: request in m.get_content())
        assert mail["To"] == ana_mail["contacts"][0]
        assert "Bob Customer" in mail["Subject"]

        # The same event delivered again alerts nobody twice. Barrier: a probe offer, consumed
        # from the same queue after the duplicate, has reached Ana (alert and e-mail).
        await publish(presence.rabbitmq_url, offered.data, event_id=offered.event_id, occurred_at=offered.occurred_at)
        probe = uid("req")
        await publish(presence.rabbitmq_url, offer(probe, company, [ana]))
        await ana_tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == probe)
        await smtp_sink.wait_for(lambda m: probe in m.get_content())
        for tab in (ana_tab, bob_tab, eve_tab):
            await drained(tab)
        assert [f["request_id"] for f in ana_tab.of_type("alert")] == [request, probe]
        assert bob_tab.of_type("alert") == [] and eve_tab.of_type("alert") == []
        mails = smtp_sink.matching(lambda m: request in m.get_content())
        assert len(mails) == 1  # not Bob (unavailable), not Eve (other company), not Dan (disconnected)
        for other in (bob, eve, dan):
            assert await presence.handlers.alerts.alerts.open_for_technician(other) == []

        await publish(
            presence.rabbitmq_url,
            RequestOfferWithdrawn(
                request_id=request,
                account_id=ACCOUNT,
                company_id=company,
                technician_ids=[ana],
                reason=WithdrawalReason.EXPIRED,
            ),
        )
        withdrawn = await ana_tab.wait_for(lambda f: f["type"] == "alert_withdrawn")
        assert withdrawn == {"type": "alert_withdrawn", "request_id": request, "reason": "expired"}


async def test_when_one_technician_takes_a_web_request_the_others_alerts_disappear(presence, client):
    company = await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    ben, ben_token = await staff(presence, client, company)
    async with (
        help_center(presence.base_url, ana_token) as ana_tab,
        help_center(presence.base_url, ben_token) as ben_tab,
    ):
        request = uid("req")
        await publish(presence.rabbitmq_url, offer(request, company, [ana, ben]))
        for tab in (ana_tab, ben_tab):
            await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == request)
        await publish(
            presence.rabbitmq_url,
            RequestAssigned(
                request_id=request,
                account_id=ACCOUNT,
                company_id=company,
                technician_id=ben,
                mode=ConnectionMode.WEB,
                portal_type=PortalType.SMART_BOX,
                customer_name="Bob Customer",
                alert=False,
                assigned_at=datetime.now(UTC),
            ),
        )
        gone = await ana_tab.wait_for(lambda f: f["type"] == "alert_withdrawn")
        assert gone == {"type": "alert_withdrawn", "request_id": request, "reason": "taken"}
        await ben_tab.wait_for(lambda f: f["type"] == "alert_withdrawn")
        assert len(ben_tab.of_type("alert")) == 1  # no second alert: Web assignments are silent


async def test_queue_assignment_alerts_the_assignee_and_cancellation_withdraws_it(presence, client, smtp_sink):
    company = await company_with_portal(presence)
    contact = f"{uid('queue')}@example.com"
    ana, ana_token = await staff(presence, client, company, contact=contact)
    async with help_center(presence.base_url, ana_token) as tab:
        request = uid("req")
        await publish(
            presence.rabbitmq_url,
            RequestAssigned(
                request_id=request,
                account_id=ACCOUNT,
                company_id=company,
                technician_id=ana,
                mode=ConnectionMode.QUEUE,
                portal_type=PortalType.SMART_BOX,
                customer_name="Queue Customer",
                description="Waiting in line",
                alert=True,
                assigned_at=datetime.now(UTC),
            ),
        )
        alert = await tab.wait_for(lambda f: f["type"] == "alert")
        assert alert["kind"] == "assigned" and alert["expires_at"] is None and alert["sound"] is False
        mail = await smtp_sink.wait_for(lambda m: request in m.get_content())
        assert "assigned to you" in mail["Subject"]

        # A second tab opened now still sees the open alert.
        async with help_center(presence.base_url, ana_token) as late_tab:
            await late_tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == request)

        await publish(
            presence.rabbitmq_url,
            RequestCancelled(request_id=request, account_id=ACCOUNT, company_id=company, technician_id=ana),
        )
        gone = await tab.wait_for(lambda f: f["type"] == "alert_withdrawn")
        assert gone["reason"] == "cancelled"

    # After the cancellation a fresh tab has nothing to show: open alerts are replayed right
    # after the hello, before the server reads the tab's first frame.
    async with help_center(presence.base_url, ana_token) as tab:
        await drained(tab)
        assert tab.of_type("alert") == []


async def test_a_late_offer_for_a_cancelled_request_alerts_nobody(presence, client):
    company = await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    async with help_center(presence.base_url, ana_token) as tab:
        request = uid("req")
        stale = offer(request, company, [ana])
        await publish(
            presence.rabbitmq_url,
            RequestCancelled(request_id=request, account_id=ACCOUNT, company_id=company),
        )
        # The two events travel on different queues: let the cancellation be absorbed first.
        alerts = presence.handlers.alerts.alerts
        await eventually(lambda: alerts.collection.find_one({"_id": request, "cancelled": True}), what="cancellation")
        await publish(presence.rabbitmq_url, stale)
        # Another request proves the offer consumer ran in the meantime.
        probe = uid("req")
        await publish(presence.rabbitmq_url, offer(probe, company, [ana]))
        await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == probe)
        assert [f["request_id"] for f in tab.of_type("alert")] == [probe]


async def test_desktop_alerts_off_means_no_in_app_alert(presence, client):
    company = await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    response = await client.put(
        presence.base_url + "/api/presence/me/preferences", json={"desktop_alerts": False}, headers=bearer(ana_token)
    )
    assert response.json()["desktop_alerts"] is False
    ben, ben_token = await staff(presence, client, company)
    async with (
        help_center(presence.base_url, ana_token) as ana_tab,
        help_center(presence.base_url, ben_token) as ben_tab,
    ):
        request = uid("req")
        await publish(presence.rabbitmq_url, offer(request, company, [ana, ben]))
        await ben_tab.wait_for(lambda f: f["type"] == "alert")
        # Ana comes first in the offer: her alert is recorded, and nothing was sent to her tab.
        assert [a.request_id for a in await presence.handlers.alerts.alerts.open_for_technician(ana)] == [request]
        await drained(ana_tab)
        assert ana_tab.of_type("alert") == []


def later() -> datetime:
    """The time of a retry tick well after every first attempt gave up."""
    return datetime.now(UTC) + timedelta(minutes=5)


async def test_an_alert_email_that_failed_is_sent_exactly_once_by_the_retry_tick(presence, client, smtp_sink):
    company = await company_with_portal(presence)
    contact = f"{uid('retry')}@example.com"
    ana, ana_token = await staff(presence, client, company, contact=contact)
    request = uid("req")
    about = lambda m: request in m.get_content()  # noqa: E731
    # The first attempt fails after the alert was recorded: the same state a crash between
    # recording and sending leaves behind.
    smtp_sink.refuse_once(about)
    async with help_center(presence.base_url, ana_token) as tab:
        await publish(presence.rabbitmq_url, offer(request, company, [ana]))
        await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == request)
    await eventually(lambda: [m for m in smtp_sink.refused if about(m)], timeout=10, what="first attempt refused")
    alerts = presence.handlers.alerts
    await eventually(
        lambda: alerts.alerts.collection.find_one({"_id": request, f"open.{ana}.email_state": "pending"}),
        what="e-mail still pending after the failed attempt",
    )
    assert smtp_sink.matching(about) == []

    await alerts.resend_pending(now=later())
    mails = smtp_sink.matching(about)
    assert len(mails) == 1 and mails[0]["To"] == contact
    message_id = mails[0]["Message-ID"].strip()
    assert request in message_id and ana in message_id
    assert [m["Message-ID"].strip() for m in smtp_sink.refused if about(m)] == [message_id]  # the same message, by id

    # Marked sent: later ticks leave it alone.
    await alerts.resend_pending(now=later())
    assert len(smtp_sink.matching(about)) == 1
    stored = (await alerts.alerts.collection.find_one({"_id": request}))["open"][ana]
    assert stored["email_state"] == "sent" and stored["email_id"] == message_id


async def test_a_technician_who_loses_a_company_loses_its_alerts_and_emails_at_once(presence, client, smtp_sink):
    kept, lost = await company_with_portal(presence), await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, [kept, lost], contact=f"{uid('lost')}@example.com")
    request = uid("req")
    about = lambda m: request in m.get_content()  # noqa: E731
    smtp_sink.refuse_once(about)  # so that an e-mail is still pending when access goes
    async with help_center(presence.base_url, ana_token) as tab:
        await publish(presence.rabbitmq_url, offer(request, lost, [ana]))
        await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == request)
        await eventually(lambda: [m for m in smtp_sink.refused if about(m)], timeout=10, what="first attempt refused")

        # The admin takes the company away; Ana's token still names it.
        await publish(presence.rabbitmq_url, technician(ana, [kept], revision=2))
        withdrawn = await tab.wait_for(lambda f: f["type"] == "alert_withdrawn")
        assert withdrawn == {"type": "alert_withdrawn", "request_id": request, "reason": "access_revoked"}

        # A later offer of that company (dispatch may still list her) reaches nobody; a probe
        # offer of the company she kept proves the offer consumer ran meanwhile.
        late, probe = uid("req"), uid("req")
        await publish(presence.rabbitmq_url, offer(late, lost, [ana]))
        await publish(presence.rabbitmq_url, offer(probe, kept, [ana]))
        await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == probe)
        await drained(tab)
        # (An alert frame may repeat — a redelivered offer — but the lost company's late offer never shows.)
        assert list(dict.fromkeys(f["request_id"] for f in tab.of_type("alert"))) == [request, probe]

    # The pending e-mail of the lost company is never sent; a fresh tab replays nothing of it.
    await presence.handlers.alerts.resend_pending(now=later())
    assert smtp_sink.matching(about) == []
    async with help_center(presence.base_url, ana_token) as tab:
        await drained(tab)
        assert [f["request_id"] for f in tab.of_type("alert")] == [probe]


@pytest.fixture
async def patient_presence(real_backends, smtp_sink):
    """presence-svc with a grace period long enough to reconnect in, however loaded the machine,
    in a vhost of its own: the module's `presence` runs meanwhile and would take half its events."""
    with isolated_vhost(real_backends.rabbitmq_url, f"assistline-presence-{uid('vh')}") as url:
        settings = replace(real_backends, rabbitmq_url=url).settings(
            Settings,
            mongodb_db=f"presence-grace-{uid('db')}",
            presence_grace_seconds=30.0,
            smtp_port=smtp_sink.port,
        )
        instance = Presence(url, settings)
        await instance.start()
        try:
            yield instance
        finally:
            await instance.stop()


async def test_an_assignment_made_while_the_help_center_reconnects_is_replayed(patient_presence, client):
    # Dispatch still routes to a technician within the grace period (their help center is
    # reconnecting, perhaps to another replica): the alert must wait for the reconnection.
    presence = patient_presence
    company = await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    async with help_center(presence.base_url, ana_token):
        pass  # the tab closes: the grace period starts
    request = uid("req")
    await publish(
        presence.rabbitmq_url,
        RequestAssigned(
            request_id=request,
            account_id=ACCOUNT,
            company_id=company,
            technician_id=ana,
            mode=ConnectionMode.QUEUE,
            portal_type=PortalType.SMART_BOX,
            customer_name="Queue Customer",
            alert=True,
            assigned_at=datetime.now(UTC),
        ),
    )

    async def stored() -> bool:
        return await presence.handlers.alerts.alerts.collection.find_one({"_id": request}) is not None

    # Positive barrier: the assignment was handled while no tab was open.
    await eventually(stored, timeout=15, what="the assignment handled")
    async with help_center(presence.base_url, ana_token) as tab:
        alert = await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == request)
        assert alert["kind"] == "assigned"
