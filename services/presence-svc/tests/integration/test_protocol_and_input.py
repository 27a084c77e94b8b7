"""The WebSocket protocol and bad input on every endpoint: clear 4xx / close codes."""

import pytest
import websockets
from presence_support.helpers import (
    HEARTBEAT_TIMEOUT,
    WS_PATH,
    help_center,
    known,
    open_socket,
    portal,
    publish,
    tech_token,
    technician,
    uid,
)

from servicekit.auth import WS_SUBPROTOCOL, Role
from testkit import FrameCollector, bearer, connect, ws_url
from testkit.plugin import make_token

pytestmark = pytest.mark.integration


async def seeded(presence, client, *, with_portal: bool = True, active: bool = False):
    company = uid("cmp")
    if with_portal:
        await publish(presence.rabbitmq_url, portal(company, active=active))
    tech = uid("tec")
    token = tech_token(tech, [company])
    await publish(presence.rabbitmq_url, technician(tech, [company]))
    await known(client, presence.base_url, token)
    return tech, token


async def refused(presence, token: str) -> tuple[int | None, str]:
    tab = await open_socket(presence.base_url, token, heartbeat_every=None)
    try:
        return await tab.wait_closed()
    finally:
        await tab.close()


async def closed_without_subprotocol(url: str) -> tuple[int | None, str]:
    async with FrameCollector(await websockets.connect(url)) as tab:
        return await tab.wait_closed()


async def test_websocket_refuses_bad_tokens_with_policy_violation(presence, client):
    code, reason = await refused(presence, "not-a-jwt")
    assert (code, reason) == (1008, "invalid token")
    admin = make_token(Role.ADMIN, subject="adm_1")
    assert (await refused(presence, admin))[0] == 1008
    code, reason = await refused(presence, tech_token(uid("tec"), ["cmp_x"]))
    assert code == 1008 and "not known" in reason
    url = ws_url(presence.base_url, WS_PATH)
    assert await closed_without_subprotocol(url) == (1008, "missing bearer token")


async def test_the_token_travels_as_a_subprotocol_never_in_the_url(presence, client):
    _, token = await seeded(presence, client)
    socket = await connect(ws_url(presence.base_url, WS_PATH), token)
    assert socket.subprotocol == WS_SUBPROTOCOL  # the server echoes ours, never the token
    async with FrameCollector(socket) as tab:
        await tab.wait_for(lambda f: f["type"] == "hello")
    # The old way, a token in the query string, is refused like no token at all.
    url = ws_url(presence.base_url, WS_PATH) + f"?token={token}"
    assert await closed_without_subprotocol(url) == (1008, "missing bearer token")


async def test_bad_frames_get_an_error_frame_and_heartbeats_an_ack(presence, client):
    _, token = await seeded(presence, client)
    async with help_center(presence.base_url, token, heartbeat_every=None) as tab:
        frames: list[str | bytes] = ["{nope", "[1, 2]", '{"type": "dance"}', b"\x00\x01"]
        for raw in frames:
            await tab.socket.send(raw)
        await tab.socket.send('{"type": "heartbeat"}')
        await tab.wait_for(lambda f: f["type"] == "heartbeat_ack")
        errors = [f["message"] for f in tab.of_type("error")]
        assert len(errors) == 4
        assert "unknown frame type 'dance'" in errors[2]


async def test_a_silent_connection_is_closed_and_the_technician_then_goes_unavailable(presence, client, tap):
    tech, token = await seeded(presence, client, active=True)
    # A frozen browser tab: never beats.
    async with help_center(presence.base_url, token, heartbeat_every=None) as tab:
        await client.put(
            presence.base_url + "/api/presence/me/status", json={"status": "available"}, headers=bearer(token)
        )
        await tap.wait_for(lambda m: m["data"]["technician_id"] == tech)
        code, reason = await tab.wait_closed(timeout=HEARTBEAT_TIMEOUT * 3)
        assert (code, reason) == (4000, "heartbeat timeout")
    gone = await tap.wait_for(lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == tech)
    assert gone["data"]["reason"] == "disconnected"


async def test_status_endpoint_rejects_bad_input_clearly(presence, client):
    url = presence.base_url + "/api/presence/me/status"
    _, token = await seeded(presence, client)

    response = await client.put(url, json={"status": "busy"}, headers=bearer(token))
    assert response.status_code == 422
    assert response.json()["error"] == "validation_failed" and "status" in response.json()["message"]
    assert (await client.put(url, json={}, headers=bearer(token))).status_code == 422
    assert (
        await client.put(url, content=b"{oops", headers={**bearer(token), "Content-Type": "application/json"})
    ).status_code == 422

    assert (await client.put(url, json={"status": "available"})).json()["error"] == "missing_token"
    assert (await client.put(url, json={"status": "available"}, headers=bearer("junk"))).status_code == 401
    admin = make_token(Role.ADMIN, subject="adm_1")
    assert (await client.put(url, json={"status": "available"}, headers=bearer(admin))).status_code == 403

    stranger = tech_token(uid("tec"), ["cmp_x"])
    response = await client.put(url, json={"status": "available"}, headers=bearer(stranger))
    assert response.status_code == 404 and response.json()["error"] == "unknown_technician"


async def test_a_technician_id_from_another_account_is_not_found(presence, client):
    tech, _ = await seeded(presence, client)
    foreign = tech_token(tech, ["cmp_x"], account="acc_other")
    for method, path, body in [
        ("GET", "/api/presence/me", None),
        ("PUT", "/api/presence/me/status", {"status": "available"}),
        ("GET", "/api/presence/me/preferences", None),
        ("POST", "/api/presence/me/preferences/contacts", {"address": "x@example.com"}),
    ]:
        response = await client.request(method, presence.base_url + path, json=body, headers=bearer(foreign))
        assert response.status_code == 404, (method, path)
        assert response.json()["error"] == "unknown_technician"
    assert (await refused(presence, foreign))[0] == 1008


async def test_no_status_menu_until_a_company_has_a_portal(presence, client):
    _, token = await seeded(presence, client, with_portal=False)
    me = await known(client, presence.base_url, token)
    assert me["status_menu"] is False
    response = await client.put(
        presence.base_url + "/api/presence/me/status", json={"status": "available"}, headers=bearer(token)
    )
    assert response.status_code == 409
    assert response.json()["error"] == "no_portal" and "portal" in response.json()["message"]


async def test_preferences_and_contacts(presence, client):
    _, token = await seeded(presence, client)
    url = presence.base_url + "/api/presence/me/preferences"
    assert (await client.get(url, headers=bearer(token))).json() == {
        "desktop_alerts": True,
        "sound": True,
        "email_alerts": False,
        "contacts": [],
    }
    response = await client.post(url + "/contacts", json={"address": "Ana@Example.com"}, headers=bearer(token))
    assert response.status_code == 201 and response.json()["contacts"] == ["Ana@example.com"]
    response = await client.post(url + "/contacts", json={"address": "Ana@example.com"}, headers=bearer(token))
    assert response.status_code == 409 and response.json()["error"] == "duplicate_contact"

    for bad in ["not-an-address", "a@b", "ana@@example.com", "", "x" * 300 + "@example.com"]:
        response = await client.post(url + "/contacts", json={"address": bad}, headers=bearer(token))
        assert response.status_code == 422, bad
        assert response.json()["error"] == "validation_failed"
    response = await client.put(url, json={"contacts": ["ok@example.com", "broken"]}, headers=bearer(token))
    assert response.status_code == 422 and "contacts.1" in response.json()["message"]
    response = await client.put(url, json={"sound": "loud"}, headers=bearer(token))
    assert response.status_code == 422
    response = await client.put(url, json={"smoke_signals": True}, headers=bearer(token))
    assert response.status_code == 422

    response = await client.put(url, json={"sound": False, "email_alerts": True}, headers=bearer(token))
    assert response.json() == {
        "desktop_alerts": True,
        "sound": False,
        "email_alerts": True,
        "contacts": ["Ana@example.com"],
    }
    for i in range(4):
        assert (
            await client.post(url + "/contacts", json={"address": f"c{i}@example.com"}, headers=bearer(token))
        ).status_code == 201
    response = await client.post(url + "/contacts", json={"address": "one-too-many@example.com"}, headers=bearer(token))
    assert response.status_code == 409 and response.json()["error"] == "too_many_contacts"

    response = await client.delete(url + "/contacts/Ana@example.com", headers=bearer(token))
    assert response.status_code == 200 and "Ana@example.com" not in response.json()["contacts"]
    response = await client.delete(url + "/contacts/Ana@example.com", headers=bearer(token))
    assert response.status_code == 404 and response.json()["error"] == "unknown_contact"
    response = await client.delete(url + "/contacts/not-an-address", headers=bearer(token))
    assert response.status_code == 422 and response.json()["error"] == "invalid_address"
    # The choices are stored, not kept in the process.
    assert (await client.get(url, headers=bearer(token))).json()["sound"] is False
