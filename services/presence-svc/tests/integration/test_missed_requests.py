"""Trustworthy presence against the real broker and store: the missed-requests streak, its
reset, the reason shown, the admins' roster and the paginated status history."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from presence_support.helpers import (
    ACCOUNT,
    company_with_portal,
    help_center,
    offer,
    publish,
    staff,
    tech_token,
    uid,
)

from contracts import ChatSessionEnded, RequestAcknowledged, RequestAssigned, RequestOfferWithdrawn
from contracts.vocabulary import ConnectionMode, EndedBy, PortalType, SessionOutcome, WithdrawalReason
from servicekit.auth import Role
from testkit import bearer, eventually
from testkit.plugin import make_token

pytestmark = pytest.mark.integration


def admin_token(account: str = ACCOUNT) -> str:
    return make_token(Role.ADMIN, subject=uid("adm"), account_id=account)


def withdrawn(request_id: str, company: str, technicians: list[str], reason=WithdrawalReason.EXPIRED):
    return RequestOfferWithdrawn(
        request_id=request_id, account_id=ACCOUNT, company_id=company, technician_ids=technicians, reason=reason
    )


def assigned(request_id: str, company: str, technician: str, *, alert: bool) -> RequestAssigned:
    return RequestAssigned(
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        technician_id=technician,
        mode=ConnectionMode.QUEUE if alert else ConnectionMode.WEB,
        portal_type=PortalType.SMART_BOX,
        customer_name="Bob Customer",
        alert=alert,
        assigned_at=datetime.now(UTC),
    )


def chat_ended(request_id: str, company: str, technician: str) -> ChatSessionEnded:
    return ChatSessionEnded(
        session_id=uid("cht"),
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company,
        technician_id=technician,
        ended_by=EndedBy.TECHNICIAN,
        outcome=SessionOutcome.RESOLVED,
    )


async def missed(presence, technician_id: str, count: int) -> None:
    """Positive barrier: presence-svc has counted `count` misses in a row."""

    async def check() -> bool:
        found = await presence.handlers.presence.technicians.get(technician_id)
        return found is not None and found.missed == count

    await eventually(check, timeout=15, what=f"{count} misses counted")


async def offered(presence, request_id: str, company: str, technician_id: str) -> None:
    """Publish an offer and wait until presence-svc holds it as an open ask (events of
    different types come from different queues: a withdrawal must not overtake its offer)."""
    await publish(presence.rabbitmq_url, offer(request_id, company, [technician_id]))

    async def held() -> bool:
        doc = await presence.handlers.presence.technicians.collection.find_one({"_id": technician_id}, {"asks": 1})
        return request_id in (doc or {}).get("asks", {})

    await eventually(held, timeout=15, what="offer held")


async def _holds(presence, technician_id: str, request_id: str) -> bool:
    return request_id in await asks(presence, technician_id)


async def asks(presence, technician_id: str) -> dict[str, Any]:
    doc = await presence.handlers.presence.technicians.collection.find_one({"_id": technician_id}, {"asks": 1})
    return (doc or {}).get("asks", {})


async def queue_assigned(presence, request_id: str, company: str, technician_id: str) -> None:
    """Publish a Queue assignment and wait until presence-svc holds it as an open ask."""
    await publish(presence.rabbitmq_url, assigned(request_id, company, technician_id, alert=True))

    async def held() -> bool:
        return request_id in await asks(presence, technician_id)

    await eventually(held, timeout=15, what="assignment held")


def acknowledged(request_id: str, company: str, technician: str, at: datetime) -> RequestAcknowledged:
    return RequestAcknowledged(
        request_id=request_id, account_id=ACCOUNT, company_id=company, technician_id=technician, acknowledged_at=at
    )


async def me(client, presence, token: str) -> dict[str, Any]:
    response = await client.get(presence.base_url + "/api/presence/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_three_unanswered_requests_in_a_row_set_the_technician_unavailable_until_they_choose_again(
    presence, client, tap
):
    company = await company_with_portal(presence)
    ana, token = await staff(presence, client, company)
    async with help_center(presence.base_url, token) as tab:
        await tap.wait_for(lambda m: m["type"] == "TechnicianAvailable" and m["data"]["technician_id"] == ana)

        # 1: a Web offer lapses and is made again to her (no withdrawal, a later expiry).
        first = offer(uid("req"), company, [ana])
        await publish(presence.rabbitmq_url, first)
        # Held before the re-offer is sent: two deliveries of one queue may be handled at once.
        await eventually(lambda: _holds(presence, ana, first.request_id), timeout=15, what="first offer held")
        again = first.model_copy(update={"expires_at": first.expires_at + timedelta(seconds=30)})
        await publish(presence.rabbitmq_url, again)
        await missed(presence, ana, 1)
        # The same re-offer delivered twice is one miss, not two.
        await publish(presence.rabbitmq_url, again)
        # 2: another offer expires and is withdrawn from her.
        second = uid("req")
        await offered(presence, second, company, ana)
        await publish(presence.rabbitmq_url, withdrawn(second, company, [ana]))
        await missed(presence, ana, 2)
        assert (await me(client, presence, token))["available"] is True  # two is not enough

        # 3: a Queue assignment is not acknowledged in time (withdrawn as expired, back in the queue).
        third = uid("req")
        await publish(presence.rabbitmq_url, assigned(third, company, ana, alert=True))
        await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == third)
        await publish(presence.rabbitmq_url, withdrawn(third, company, [ana]))

        notice = await tab.wait_for(lambda f: f["type"] == "missed_requests")
        assert notice["missed"] == 3 and "Choose Available" in notice["message"]
        status = await tab.wait_for(lambda f: f["type"] == "status" and f["reason"] == "missed_requests")
        assert status["status"] == "unavailable" and status["available"] is False
        gone = await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == ana)
        assert gone["data"]["reason"] == "missed_requests"
        view = await me(client, presence, token)
        assert (view["status"], view["reason"], view["available"]) == ("unavailable", "missed_requests", False)

        # She must choose Available again; then the reason is gone and routing hears of her.
        response = await client.put(
            presence.base_url + "/api/presence/me/status", json={"status": "available"}, headers=bearer(token)
        )
        assert response.status_code == 200
        assert (response.json()["available"], response.json()["reason"]) == (True, None)
        back = await tap.wait_for(
            lambda m: (
                m["type"] == "TechnicianAvailable" and m["data"]["technician_id"] == ana and m["data"]["sequence"] > 1
            )
        )
        assert back["data"]["sequence"] == gone["data"]["sequence"] + 1
        assert (await presence.handlers.presence.technicians.get(ana)).missed == 0


async def test_an_accept_resets_the_streak_and_other_withdrawals_are_no_miss(presence, client):
    company = await company_with_portal(presence)
    ana, token = await staff(presence, client, company)
    async with help_center(presence.base_url, token):
        for _ in range(2):
            request = uid("req")
            await offered(presence, request, company, ana)
            await publish(presence.rabbitmq_url, withdrawn(request, company, [ana]))
        await missed(presence, ana, 2)

        taken = uid("req")
        await offered(presence, taken, company, ana)
        await publish(presence.rabbitmq_url, assigned(taken, company, ana, alert=False))  # she accepted it
        await missed(presence, ana, 0)

        # Taken by a colleague / cancelled: not hers to answer, so not a miss.
        for reason in (WithdrawalReason.TAKEN, WithdrawalReason.CANCELLED):
            request = uid("req")
            await offered(presence, request, company, ana)
            await publish(presence.rabbitmq_url, withdrawn(request, company, [ana], reason))
        lapsed = uid("req")
        await offered(presence, lapsed, company, ana)
        await publish(presence.rabbitmq_url, withdrawn(lapsed, company, [ana]))
        await missed(presence, ana, 1)  # barrier: the later expiry was counted, the others not
        await publish(presence.rabbitmq_url, withdrawn(lapsed, company, [ana]))  # a repeat
        other = uid("req")
        await offered(presence, other, company, ana)
        await publish(presence.rabbitmq_url, withdrawn(other, company, [ana]))
        await missed(presence, ana, 2)  # the repeat counted nothing
        view = await me(client, presence, token)
        assert (view["available"], view["reason"]) == (True, None)


async def test_an_acknowledged_queue_assignment_resets_the_streak_and_three_lapses_in_a_row_still_stop(
    presence, client, tap
):
    company = await company_with_portal(presence)
    ana, token = await staff(presence, client, company)
    async with help_center(presence.base_url, token) as tab:
        await tap.wait_for(lambda m: m["type"] == "TechnicianAvailable" and m["data"]["technician_id"] == ana)
        for count in (1, 2):  # miss, miss: two Queue assignments not acknowledged in time
            request = uid("req")
            await queue_assigned(presence, request, company, ana)
            await publish(presence.rabbitmq_url, withdrawn(request, company, [ana]))
            await missed(presence, ana, count)

        answered = uid("req")  # ack: she acknowledged this one
        await queue_assigned(presence, answered, company, ana)
        await publish(presence.rabbitmq_url, acknowledged(answered, company, ana, datetime.now(UTC)))
        await missed(presence, ana, 0)
        assert answered not in await asks(presence, ana)

        for count in (1, 2):  # miss, miss
            request = uid("req")
            await queue_assigned(presence, request, company, ana)
            await publish(presence.rabbitmq_url, withdrawn(request, company, [ana]))
            await missed(presence, ana, count)
        view = await me(client, presence, token)
        assert (view["status"], view["available"], view["reason"]) == ("available", True, None)

        # An acknowledgement older than the last miss, delivered late, does not erase it.
        late = uid("req")
        await queue_assigned(presence, late, company, ana)
        stale = datetime.now(UTC) - timedelta(minutes=5)
        await publish(presence.rabbitmq_url, acknowledged(late, company, ana, stale))

        async def consumed() -> bool:  # the positive barrier: the ack removed her ask
            return late not in await asks(presence, ana)

        await eventually(consumed, timeout=15, what="stale acknowledgement consumed")
        assert (await presence.handlers.presence.technicians.get(ana)).missed == 2

        # The third lapse in a row stops her.
        third = uid("req")
        await queue_assigned(presence, third, company, ana)
        await publish(presence.rabbitmq_url, withdrawn(third, company, [ana]))
        notice = await tab.wait_for(lambda f: f["type"] == "missed_requests")
        assert notice["missed"] == 3
        gone = await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == ana)
        assert gone["data"]["reason"] == "missed_requests"
        view = await me(client, presence, token)
        assert (view["status"], view["reason"], view["available"]) == ("unavailable", "missed_requests", False)


async def test_roster_shows_state_reason_since_and_chats_open_to_admins_of_the_account_only(presence, client):
    company = await company_with_portal(presence)
    ana, ana_token = await staff(presence, client, company)
    bob, _ = await staff(presence, client, company, available=False)
    admin = admin_token()
    async with help_center(presence.base_url, ana_token):
        chat = uid("req")
        await publish(presence.rabbitmq_url, assigned(chat, company, ana, alert=False))

        async def roster() -> dict[str, dict[str, Any]] | None:
            response = await client.get(presence.base_url + "/api/presence/roster", headers=bearer(admin))
            assert response.status_code == 200, response.text
            rows = {row["technician_id"]: row for row in response.json()["technicians"]}
            return rows if rows.get(ana, {}).get("chats_open") == 1 else None

        rows = await eventually(roster, timeout=15, what="ana's chat on the roster")
        assert (rows[ana]["available"], rows[ana]["reason"]) == (True, None)
        assert (rows[bob]["available"], rows[bob]["reason"]) == (False, "chosen")
        assert rows[bob]["since"] is not None and rows[bob]["chats_open"] == 0
        since = datetime.fromisoformat(rows[ana]["since"])
        assert datetime.now(UTC) - since < timedelta(minutes=5)

        await publish(presence.rabbitmq_url, chat_ended(chat, company, ana))

        async def closed() -> bool:
            response = await client.get(presence.base_url + "/api/presence/roster", headers=bearer(admin))
            return any(r["technician_id"] == ana and r["chats_open"] == 0 for r in response.json()["technicians"])

        await eventually(closed, timeout=15, what="chat closed on the roster")

    # Another account's admin sees none of them; a technician may not read the roster.
    other = await client.get(presence.base_url + "/api/presence/roster", headers=bearer(admin_token("acc_other")))
    assert other.status_code == 200
    assert not {ana, bob} & {row["technician_id"] for row in other.json()["technicians"]}
    refused = await client.get(presence.base_url + "/api/presence/roster", headers=bearer(ana_token))
    assert refused.status_code == 403 and "application/json" in refused.headers["content-type"]


async def test_status_history_pages_newest_first_without_gaps_and_only_for_the_account(presence, client):
    company = await company_with_portal(presence)
    ana, token = await staff(presence, client, company, available=False)
    async with help_center(presence.base_url, token):
        for status in ["available", "unavailable"] * 4:
            response = await client.put(
                presence.base_url + "/api/presence/me/status", json={"status": status}, headers=bearer(token)
            )
            assert response.status_code == 200
    admin = admin_token()
    url = f"{presence.base_url}/api/presence/technicians/{ana}/history"

    async def all_pages() -> list[dict[str, Any]] | None:
        entries: list[dict[str, Any]] = []
        cursor = None
        for _ in range(20):
            params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
            response = await client.get(url, params=params, headers=bearer(admin))
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["entries"]) <= 3
            entries += page["entries"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        # Closing the tab ends with the technician unavailable by choice again.
        return entries if len(entries) >= 9 else None

    entries = await eventually(all_pages, timeout=15, what="the history recorded")
    states = [e["state"] for e in entries]
    # Newest first: her eight choices, after the first state recorded for her.
    assert states[:8] == ["chosen", "available"] * 4
    assert all(e["actor"] == "technician" and e["actor_id"] == ana for e in entries[:8])
    moments = [datetime.fromisoformat(e["at"]) for e in entries]
    assert moments == sorted(moments, reverse=True)
    assert len({(e["at"], e["state"]) for e in entries}) == len(entries)  # no repeats across pages

    stranger = await client.get(url, headers=bearer(admin_token("acc_other")))
    assert stranger.status_code == 404 and stranger.json()["error"] == "unknown_technician"
    technician = await client.get(url, headers=bearer(tech_token(ana, [company])))
    assert technician.status_code == 403
    bad = await client.get(url, params={"cursor": "not-a-cursor"}, headers=bearer(admin))
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_cursor"


async def test_a_chat_whose_end_overtakes_its_assignment_never_counts_as_open_and_leftovers_are_pruned(
    presence, client
):
    """Assignments and chat ends come from separate queues: an end handled first is
    remembered, so its late assignment opens no chat (before, each such chat stayed open for
    good and the technician's document grew with every one). What overtaken events leave
    behind is pruned once past the retention."""
    company = await company_with_portal(presence)
    ana, _ = await staff(presence, client, company)
    technicians = presence.handlers.presence.technicians.collection
    alerts = presence.handlers.alerts.alerts.collection
    admin = admin_token()

    async def chats_open() -> int:
        response = await client.get(presence.base_url + "/api/presence/roster", headers=bearer(admin))
        return next(r["chats_open"] for r in response.json()["technicians"] if r["technician_id"] == ana)

    late = uid("req")
    await publish(presence.rabbitmq_url, chat_ended(late, company, ana))

    async def remembered() -> bool:
        return late in ((await technicians.find_one({"_id": ana})) or {}).get("ended", {})

    await eventually(remembered, timeout=15, what="the end remembered")
    await publish(presence.rabbitmq_url, assigned(late, company, ana, alert=False))
    await eventually(
        lambda: alerts.find_one({"_id": late, "closed_at": {"$exists": True}}), timeout=15, what="assignment handled"
    )
    assert await chats_open() == 0
    assert late not in ((await technicians.find_one({"_id": ana})) or {}).get("chats", {})

    # In the usual order the chat opens, then closes, and nothing is left behind.
    usual = uid("req")
    await publish(presence.rabbitmq_url, assigned(usual, company, ana, alert=False))
    await eventually(lambda: chats_open(), timeout=15, what="the chat open")
    assert await chats_open() == 1
    await publish(presence.rabbitmq_url, chat_ended(usual, company, ana))

    async def closed() -> bool:
        return await chats_open() == 0

    await eventually(closed, timeout=15, what="the chat closed")
    assert usual not in ((await technicians.find_one({"_id": ana})) or {}).get("ended", {})

    # An ask whose withdrawal overtook it, long past its deadline: pruned; a fresh one stays.
    old, fresh = uid("req"), uid("req")
    now = datetime.now(UTC)
    await technicians.update_one(
        {"_id": ana}, {"$set": {f"asks.{old}": now - timedelta(hours=1), f"asks.{fresh}": now + timedelta(seconds=30)}}
    )
    assert await presence.handlers.streak.prune() == 1
    doc = await technicians.find_one({"_id": ana})
    assert set(doc.get("asks", {})) == {fresh}
    assert late in doc.get("ended", {})  # remembered well within the retention
