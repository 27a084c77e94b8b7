"""Chosen status, connections, grace period and the availability events, end to end:
real RabbitMQ, the MongoDB-wire server, real WebSocket clients."""

import asyncio

import pytest
from presence_support.helpers import (
    GRACE,
    help_center,
    known,
    open_help_center,
    open_socket,
    portal,
    publish,
    tech_token,
    technician,
    uid,
)

from testkit import bearer

pytestmark = pytest.mark.integration


def events_of(tap, technician_id: str) -> list[dict]:
    return [m for m in tap.messages if m["data"]["technician_id"] == technician_id]


async def seeded(presence, client, *, portals=(True,), extra_companies=0):
    """A technician of fresh companies with portals (active flags given), known to presence."""
    companies = [uid("cmp") for _ in range(len(portals) + extra_companies)]
    for company, active in zip(companies, portals, strict=False):
        await publish(presence.rabbitmq_url, portal(company, active=active))
    tech = uid("tec")
    token = tech_token(tech, companies)
    await publish(presence.rabbitmq_url, technician(tech, companies))
    me = await known(client, presence.base_url, token)
    assert me["status_menu"] is True or not portals
    return tech, token, companies


async def put_status(client, presence, token, status):
    return await client.put(
        presence.base_url + "/api/presence/me/status", json={"status": status}, headers=bearer(token)
    )


async def test_choosing_available_while_connected_announces_the_active_portal_companies(presence, client, tap):
    tech, token, companies = await seeded(presence, client, portals=(True, False), extra_companies=1)
    async with help_center(presence.base_url, token) as tab:
        hello = tab.of_type("hello")[0]
        assert hello["status"] == "unavailable" and hello["available"] is False
        assert hello["preferences"]["sound"] is True

        response = await put_status(client, presence, token, "available")
        assert response.status_code == 200
        assert response.json()["available"] is True
        assert response.json()["company_ids"] == [companies[0]]

        event = await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
        assert event["type"] == "TechnicianAvailable"
        assert event["producer"] == "presence-svc"
        assert event["data"]["company_ids"] == [companies[0]]  # only the active portal's company
        assert event["data"]["capacity"] == 2
        assert event["data"]["sequence"] == 1
        await tab.wait_for(lambda f: f["type"] == "status" and f["available"] is True)

        response = await put_status(client, presence, token, "unavailable")
        assert response.json() == {**response.json(), "status": "unavailable", "available": False}
        gone = await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == tech)
        assert gone["data"]["reason"] == "chosen"
        assert gone["data"]["sequence"] == 2
        assert gone["data"]["company_ids"] == [companies[0]]


async def test_choosing_available_without_connection_is_stored_but_not_announced(presence, client, tap):
    tech, token, _ = await seeded(presence, client)
    response = await put_status(client, presence, token, "available")
    assert response.status_code == 200
    assert response.json()["status"] == "available"
    assert response.json()["available"] is False
    async with help_center(presence.base_url, token) as tab:
        assert tab.of_type("hello")[0]["available"] is True
        event = await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
        assert event["type"] == "TechnicianAvailable"


async def test_reconnecting_within_the_grace_period_does_not_flap(presence, client, tap):
    tech, token, _ = await seeded(presence, client)
    await put_status(client, presence, token, "available")
    tab = await open_help_center(presence.base_url, token)
    await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
    for _ in range(3):  # a flaky network: drop and come back quickly, several times
        await tab.close()
        await asyncio.sleep(GRACE / 3)
        tab = await open_help_center(presence.base_url, token)
    await asyncio.sleep(GRACE * 1.5)
    await presence.handlers.presence.expire_graces()  # whatever expired has been acted on
    assert [m["type"] for m in events_of(tap, tech)] == ["TechnicianAvailable"]

    await tab.close()
    gone = await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == tech)
    assert gone["data"]["reason"] == "disconnected"
    me = await known(client, presence.base_url, token)
    assert me["status"] == "available"  # the choice is kept...
    assert me["available"] is False  # ...but routing leaves them alone while disconnected

    async with help_center(presence.base_url, token):
        back = await tap.wait_for(
            lambda m: (
                m["type"] == "TechnicianAvailable" and m["data"]["sequence"] == 3 and m["data"]["technician_id"] == tech
            )
        )
        assert back["data"]["technician_id"] == tech
    assert [m["data"]["sequence"] for m in events_of(tap, tech)] == [1, 2, 3]


async def test_several_tabs_count_as_one_presence(presence, client, tap):
    tech, token, _ = await seeded(presence, client)
    async with help_center(presence.base_url, token) as first, help_center(presence.base_url, token) as second:
        assert (await known(client, presence.base_url, token))["connections"] == 2
        await put_status(client, presence, token, "available")
        for tab in (first, second):
            await tab.wait_for(lambda f: f["type"] == "status" and f["status"] == "available")
        await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
        await first.close()
        await asyncio.sleep(GRACE * 1.5)
        assert (await known(client, presence.base_url, token))["available"] is True
    await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == tech)
    assert [m["type"] for m in events_of(tap, tech)] == ["TechnicianAvailable", "TechnicianUnavailable"]


async def test_redelivered_and_stale_technician_updates_change_nothing(presence, client, tap):
    tech, token, companies = await seeded(presence, client)
    async with help_center(presence.base_url, token) as tab:
        await put_status(client, presence, token, "available")
        await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)

        # A capacity change re-announces the technician with a higher sequence...
        updated = technician(tech, companies, revision=2, capacity=5)
        event = await publish(presence.rabbitmq_url, updated)
        again = await tap.wait_for(lambda m: m["data"]["technician_id"] == tech and m["data"]["sequence"] == 2)
        assert again["data"]["capacity"] == 5
        # ...but the same event again, or an older revision, changes nothing: the next
        # change (consumed after them, from the same queue) is the third event, not a fourth.
        await publish(presence.rabbitmq_url, updated, event_id=event.event_id)
        await publish(presence.rabbitmq_url, technician(tech, companies, revision=1, capacity=1))

        # Removing the technician from the account makes them unavailable at once, and
        # closes their help center with a reason that says so.
        await publish(presence.rabbitmq_url, technician(tech, companies, revision=3, enabled=False))
        gone = await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == tech)
        assert gone["data"]["reason"] == "access_revoked"
        assert [m["data"]["sequence"] for m in events_of(tap, tech)] == [1, 2, 3]
        assert await tab.wait_closed() == (4403, "access revoked")

    # A new connection is refused the same way, and so is the HTTP API.
    tab = await open_socket(presence.base_url, token, heartbeat_every=None)
    assert await tab.wait_closed() == (4403, "access revoked")
    await tab.close()
    response = await client.get(presence.base_url + "/api/presence/me", headers=bearer(token))
    assert response.status_code == 403 and response.json()["error"] == "technician_disabled"


async def test_deactivating_the_last_active_portal_makes_the_technician_unavailable(presence, client, tap):
    tech, token, companies = await seeded(presence, client)
    async with help_center(presence.base_url, token) as tab:
        await put_status(client, presence, token, "available")
        await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
        await publish(presence.rabbitmq_url, portal(companies[0], active=False, revision=2))
        gone = await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == tech)
        assert gone["data"]["reason"] == "access_revoked"
        await tab.wait_for(lambda f: f["type"] == "status" and f["available"] is False)
        # The portal still exists, so the menu stays and the choice is kept.
        me = await known(client, presence.base_url, token)
        assert me["status_menu"] is True and me["status"] == "available"


async def test_snapshot_lists_available_technicians_for_services_and_admins(presence, client, tap):
    from servicekit.auth import Role
    from testkit.plugin import make_token

    tech, token, companies = await seeded(presence, client)
    async with help_center(presence.base_url, token):
        await put_status(client, presence, token, "available")
        await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
        url = presence.base_url + "/api/presence/snapshot"
        service = make_token(Role.SERVICE, subject="portal-svc", account_id="*")
        body = (await client.get(url, headers=bearer(service))).json()
        mine = [t for t in body["technicians"] if t["technician_id"] == tech]
        assert mine == [{**mine[0], "company_ids": companies, "sequence": 1, "capacity": 2}]

        other_admin = make_token(Role.ADMIN, subject="adm_x", account_id="acc_other")
        assert (await client.get(url, headers=bearer(other_admin))).json() == {"technicians": []}

        denied = await client.get(url, headers=bearer(token))
        assert denied.status_code == 403 and denied.json()["error"] == "wrong_role"
        assert (await client.get(url)).status_code == 401
    await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == tech)
    body = (await client.get(url, headers=bearer(service))).json()
    assert all(t["technician_id"] != tech for t in body["technicians"])


async def test_a_socket_opened_on_another_replica_while_a_status_is_chosen_still_makes_them_available(
    presence, client, tap, monkeypatch
):
    """The interleaving two replicas can produce: this replica reads the technician for their
    choice, the other writes its lease (and, deciding from the state before the choice, finds
    nothing to announce), then this replica writes the choice. The last writer must see both."""
    tech, token, companies = await seeded(presence, client)
    handlers = presence.handlers.presence
    read = handlers.known

    async def read_then_other_replica_attaches(technician_id, account_id):
        technician = await read(technician_id, account_id)
        until = handlers.leases.clock() + handlers.leases.lease
        await handlers.technicians.attach(technician_id, "the-other-replica", until)
        return technician  # as read before the lease

    monkeypatch.setattr(handlers, "known", read_then_other_replica_attaches)
    response = await put_status(client, presence, token, "available")
    assert response.status_code == 200 and response.json()["available"] is True
    event = await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
    assert event["type"] == "TechnicianAvailable" and event["data"]["company_ids"] == companies
