"""Invitations on the help centers: the colleague's card with the note, withdrawn when it
lapses (and the chat's technician told why nobody joined); a colleague who joins has the chat
open until they leave."""

from datetime import UTC, datetime, timedelta

import pytest
from presence_support.helpers import ACCOUNT, company_with_portal, help_center, publish, staff, uid

from contracts import RequestColleagueInvited, RequestColleagueJoined, RequestColleagueLeft, RequestInvitationLapsed
from testkit import bearer, eventually

pytestmark = pytest.mark.integration


def invited(request_id: str, company: str, ana: str, ben: str) -> RequestColleagueInvited:
    return RequestColleagueInvited(
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        from_technician_id=ana,
        from_name="Ana",
        to_technician_id=ben,
        to_name="Ben",
        customer_name="Carla",
        description="VPN drops",
        note="Do you know client 4.2?",
        assignment=1,
        expires_at=datetime.now(UTC) + timedelta(minutes=1),
    )


def lapsed(request_id: str, company: str, ana: str, ben: str, reason: str) -> RequestInvitationLapsed:
    return RequestInvitationLapsed(
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        from_technician_id=ana,
        to_technician_id=ben,
        to_name="Ben",
        reason=reason,
    )


async def test_the_invitation_is_pushed_then_withdrawn_and_a_guest_has_the_chat_open(presence, client):
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
        await publish(presence.rabbitmq_url, invited(declined, company, ana, ben))
        card = await ben_tab.wait_for(lambda f: f["type"] == "invitation_offer")
        assert (card["request_id"], card["from_name"], card["note"], card["session_id"]) == (
            declined,
            "Ana",
            "Do you know client 4.2?",
            f"cht_{declined}",
        )
        await publish(presence.rabbitmq_url, lapsed(declined, company, ana, ben, "declined"))
        closed = await ben_tab.wait_for(lambda f: f["type"] == "invitation_closed")
        assert (closed["request_id"], closed["reason"]) == (declined, "declined")
        told = await ana_tab.wait_for(lambda f: f["type"] == "invitation_lapsed")
        assert told["message"] == "Ben declined to join the chat."

        ended = uid("req")
        await publish(presence.rabbitmq_url, invited(ended, company, ana, ben))
        await ben_tab.wait_for(lambda f: f["type"] == "invitation_offer" and f["request_id"] == ended)
        await publish(presence.rabbitmq_url, lapsed(ended, company, ana, ben, "chat_ended"))
        closed = await ben_tab.wait_for(lambda f: f["type"] == "invitation_closed" and f["request_id"] == ended)
        assert closed["reason"] == "chat_ended"
        told = await ana_tab.wait_for(lambda f: f["type"] == "invitation_lapsed" and f["request_id"] == ended)
        assert told["message"] == "The chat ended before Ben answered your invitation."

        # A colleague of another company is never alerted, even if named by mistake.
        await publish(presence.rabbitmq_url, invited(uid("req"), company, ana, eve))
        accepted = uid("req")
        await publish(presence.rabbitmq_url, invited(accepted, company, ana, ben))
        await ben_tab.wait_for(lambda f: f["type"] == "invitation_offer" and f["request_id"] == accepted)
        joined = RequestColleagueJoined(
            request_id=accepted,
            account_id=ACCOUNT,
            company_id=company,
            technician_id=ben,
            name="Ben",
            invited_by=ana,
            joined_at=datetime.now(UTC),
            sequence=1,
            technicians=2,
        )
        await publish(presence.rabbitmq_url, joined)
        closed = await ben_tab.wait_for(lambda f: f["type"] == "invitation_closed" and f["request_id"] == accepted)
        assert closed["reason"] == "accepted"
        assert not [f for f in eve_tab.frames if f.get("type") == "invitation_offer"]

    async def chats_open(token: str) -> int:
        return (await client.get(presence.base_url + "/api/presence/me", headers=bearer(token))).json()["chats_open"]

    await eventually(lambda: _equals(chats_open(ben_token), 1), what="Ben has the joined chat open")
    left = RequestColleagueLeft(
        request_id=accepted,
        account_id=ACCOUNT,
        company_id=company,
        technician_id=ben,
        name="Ben",
        reason="left",
        sequence=2,
        technicians=1,
    )
    await publish(presence.rabbitmq_url, left)
    await eventually(lambda: _equals(chats_open(ben_token), 0), what="Ben left the chat")


async def _equals(value, expected) -> bool:
    return (await value) == expected
