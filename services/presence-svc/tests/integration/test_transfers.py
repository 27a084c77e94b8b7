"""Transfers on the help centers: the colleague's alert with the note, its end, and why the
chat stayed with the first technician; the chats each one has open follow the transfer."""

from datetime import UTC, datetime, timedelta

import pytest
from presence_support.helpers import ACCOUNT, company_with_portal, help_center, publish, staff, uid

from contracts import RequestTransferLapsed, RequestTransferOffered, RequestTransferred
from testkit import bearer, eventually

pytestmark = pytest.mark.integration


def offered(request_id: str, company: str, ana: str, ben: str) -> RequestTransferOffered:
    return RequestTransferOffered(
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        from_technician_id=ana,
        from_name="Ana",
        to_technician_id=ben,
        customer_name="Carla",
        description="VPN drops",
        note="Client 4.2",
        assignment=1,
        expires_at=datetime.now(UTC) + timedelta(minutes=1),
    )


async def test_the_colleague_is_alerted_with_the_note_and_told_when_it_is_over(presence, client):
    company, elsewhere = await company_with_portal(presence), await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    ben, ben_token = await staff(presence, client, company)
    eve, eve_token = await staff(presence, client, elsewhere)
    async with (
        help_center(presence.base_url, ana_token) as ana_tab,
        help_center(presence.base_url, ben_token) as ben_tab,
        help_center(presence.base_url, eve_token) as eve_tab,
    ):
        declined = uid("req")
        await publish(presence.rabbitmq_url, offered(declined, company, ana, ben))
        alert = await ben_tab.wait_for(lambda f: f["type"] == "transfer_offer")
        assert (alert["request_id"], alert["from_name"], alert["note"], alert["session_id"]) == (
            declined,
            "Ana",
            "Client 4.2",
            f"cht_{declined}",
        )
        lapse = RequestTransferLapsed(
            request_id=declined,
            account_id=ACCOUNT,
            company_id=company,
            from_technician_id=ana,
            to_technician_id=ben,
            to_name="Ben",
            reason="declined",
        )
        await publish(presence.rabbitmq_url, lapse)
        closed = await ben_tab.wait_for(lambda f: f["type"] == "transfer_closed")
        assert (closed["request_id"], closed["reason"]) == (declined, "declined")
        told = await ana_tab.wait_for(lambda f: f["type"] == "transfer_lapsed")
        assert told["message"] == "Ben declined the transfer; the chat stays with you."

        # A colleague of another company is never alerted, even if named by mistake.
        stray = uid("req")
        await publish(presence.rabbitmq_url, offered(stray, company, ana, eve))
        accepted = uid("req")
        await publish(presence.rabbitmq_url, offered(accepted, company, ana, ben))
        await ben_tab.wait_for(lambda f: f["type"] == "transfer_offer" and f["request_id"] == accepted)
        moved = RequestTransferred(
            request_id=accepted,
            account_id=ACCOUNT,
            company_id=company,
            from_technician_id=ana,
            from_name="Ana",
            to_technician_id=ben,
            to_name="Ben",
            note="Client 4.2",
            assignment=2,
            assigned_at=datetime.now(UTC),
        )
        await publish(presence.rabbitmq_url, moved)
        closed = await ben_tab.wait_for(lambda f: f["type"] == "transfer_closed" and f["request_id"] == accepted)
        assert closed["reason"] == "accepted"
        assert not [f for f in eve_tab.frames if f.get("type") == "transfer_offer"]

    async def chats_open(token: str) -> int:
        return (await client.get(presence.base_url + "/api/presence/me", headers=bearer(token))).json()["chats_open"]

    await eventually(lambda: _equals(chats_open(ben_token), 1), what="Ben has the chat open")
    assert await chats_open(ana_token) == 0


async def _equals(value, expected) -> bool:
    return (await value) == expected
