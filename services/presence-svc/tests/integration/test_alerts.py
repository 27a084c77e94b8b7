"""Alerts (HelpAlert): the right technicians only, withdrawal, e-mail through SMTP."""

import asyncio
from datetime import UTC, datetime

import pytest

from contracts import RequestAssigned, RequestCancelled, RequestOfferWithdrawn
from contracts.vocabulary import ConnectionMode, PortalType, WithdrawalReason
from presence_helpers import (
    ACCOUNT,
    auth,
    help_center,
    known,
    offer,
    portal,
    publish,
    tech_token,
    technician,
    uid,
)

pytestmark = pytest.mark.integration


async def staff(presence, client, company: str, *, available: bool = True, contact: str | None = None):
    """A technician of `company`, known to presence, with the chosen status and e-mail."""
    tech = uid("tec")
    token = tech_token(tech, [company])
    await publish(presence.rabbitmq_url, technician(tech, [company]))
    await known(client, presence.base_url, token)
    status = "available" if available else "unavailable"
    response = await client.put(
        presence.base_url + "/api/presence/me/status", json={"status": status}, headers=auth(token)
    )
    assert response.status_code == 200
    if contact:
        response = await client.put(
            presence.base_url + "/api/presence/me/preferences",
            json={"email_alerts": True, "contacts": [contact], "sound": False},
            headers=auth(token),
        )
        assert response.status_code == 200, response.text
    return tech, token


async def company_with_portal(presence) -> str:
    company = uid("cmp")
    await publish(presence.rabbitmq_url, portal(company))
    return company


async def test_an_offer_alerts_only_connected_available_technicians_of_that_company(presence, client, smtp_sink):
    company, elsewhere = await company_with_portal(presence), await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company, contact=f"{uid('ana')}@example.com")
    bob, bob_token = await staff(presence, client, company, available=False, contact=f"{uid('bob')}@example.com")
    eve, eve_token = await staff(presence, client, elsewhere, contact=f"{uid('eve')}@example.com")
    dan, _ = await staff(presence, client, company, contact=f"{uid('dan')}@example.com")  # never connects
    ana_mail = (await client.get(presence.base_url + "/api/presence/me/preferences", headers=auth(ana_token))).json()

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

        # The same event delivered again alerts nobody twice.
        await publish(presence.rabbitmq_url, offered.data, event_id=offered.event_id, occurred_at=offered.occurred_at)
        await asyncio.sleep(1.0)
        assert len(ana_tab.of_type("alert")) == 1
        assert bob_tab.of_type("alert") == [] and eve_tab.of_type("alert") == []
        mails = [m for m in smtp_sink.messages if request in m.get_content()]
        assert len(mails) == 1  # not Bob (unavailable), not Eve (other company), not Dan (disconnected)

        await publish(
            presence.rabbitmq_url,
            RequestOfferWithdrawn(
                request_id=request, account_id=ACCOUNT, company_id=company,
                technician_ids=[ana], reason=WithdrawalReason.EXPIRED,
            ),
        )
        withdrawn = await ana_tab.wait_for(lambda f: f["type"] == "alert_withdrawn")
        assert withdrawn == {"type": "alert_withdrawn", "request_id": request, "reason": "expired"}


async def test_when_one_technician_takes_a_web_request_the_others_alerts_disappear(presence, client):
    company = await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    ben, ben_token = await staff(presence, client, company)
    async with help_center(presence.base_url, ana_token) as ana_tab, help_center(presence.base_url, ben_token) as ben_tab:
        request = uid("req")
        await publish(presence.rabbitmq_url, offer(request, company, [ana, ben]))
        for tab in (ana_tab, ben_tab):
            await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == request)
        await publish(
            presence.rabbitmq_url,
            RequestAssigned(
                request_id=request, account_id=ACCOUNT, company_id=company, technician_id=ben,
                mode=ConnectionMode.WEB, portal_type=PortalType.SMART_BOX, customer_name="Bob Customer",
                alert=False, assigned_at=datetime.now(UTC),
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
                request_id=request, account_id=ACCOUNT, company_id=company, technician_id=ana,
                mode=ConnectionMode.QUEUE, portal_type=PortalType.SMART_BOX, customer_name="Queue Customer",
                description="Waiting in line", alert=True, assigned_at=datetime.now(UTC),
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

    # After the cancellation a fresh tab has nothing to show.
    async with help_center(presence.base_url, ana_token) as tab:
        await asyncio.sleep(0.5)
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
        await asyncio.sleep(0.5)
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
        presence.base_url + "/api/presence/me/preferences", json={"desktop_alerts": False}, headers=auth(ana_token)
    )
    assert response.json()["desktop_alerts"] is False
    ben, ben_token = await staff(presence, client, company)
    async with help_center(presence.base_url, ana_token) as ana_tab, help_center(presence.base_url, ben_token) as ben_tab:
        request = uid("req")
        await publish(presence.rabbitmq_url, offer(request, company, [ana, ben]))
        await ben_tab.wait_for(lambda f: f["type"] == "alert")
        await asyncio.sleep(0.3)
        assert ana_tab.of_type("alert") == []
