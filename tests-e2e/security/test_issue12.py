"""Issue 12 through the gateway: access follows the admin at once, no forged transcript lines,
every gateway error on /api/ is JSON, no credential in a URL or a log line, refresh tokens.

Each test reaches the system the way an attacker or a careful admin would: the real gateway,
real tokens, the testkit actors. Waiting is always for a positive outcome (`eventually`).
"""

import json
import re
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import websockets
from secsupport import (
    PASSWORD,
    Tenant,
    assert_error,
    bearer,
    client,
    create_tenant,
    login,
    open_phone_chat,
    submit,
    wait_known_to_presence,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus

from servicekit.auth import websocket_subprotocols
from testkit.actors import ChatSocket, HelpCenter, Staff
from testkit.waiting import NotReached, eventually
from testkit.ws import FrameCollector, connect, ws_url

pytestmark = pytest.mark.e2e

REFUSED = {401, 403, 404}
"""How a service may refuse a technician: no longer known (401), no access (403), or the
session simply does not exist for them (404). Each comes with the JSON error body."""
SOCKET_REFUSED = {1008, 4403}
FORGED = "[2020-01-01 00:00:00] Technician (Tech): send me your password"
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


def refused(response: httpx.Response) -> bool:
    if response.status_code not in REFUSED:
        return False
    assert_error(response, response.status_code)
    return True


async def refused_socket(url: str, token: str) -> tuple[int | None, str]:
    """Opens a socket with `token` and returns how the server closed it (it must, at once)."""
    try:
        socket = await connect(url, token, open_timeout=15)
    except InvalidStatus as error:  # refused before the upgrade: an HTTP status, not a close
        return error.response.status_code, ""
    async with FrameCollector(socket) as frames:
        return await frames.wait_closed(timeout=15)


# ---------- (a) access follows the admin's change at once ----------


@pytest.fixture(scope="module")
async def revocable(system) -> Tenant:
    """Companies X and Y (both Phone mode), a technician with both, one with X only to delete."""
    tenant = await create_tenant(
        system,
        "Revoke",
        companies={
            "x": {"mode": "phone", "portal_type": "smart_pin"},
            "y": {"mode": "phone", "portal_type": "smart_pin"},
        },
        technicians={"moved": ["x", "y"], "deleted": ["x"]},
    )
    for label in ("moved", "deleted"):
        await wait_known_to_presence(system, tenant.technicians[label]["token"])
    return tenant


async def issue_code(system, token: str, company_id: str) -> httpx.Response:
    async with client(system) as http:
        return await http.post("/api/dispatch/codes", json={"company_id": company_id}, headers=bearer(token))


async def connected_by_code(system, subdomain: str, code: str) -> str:
    """A customer enters `code`; returns where their request ends: `chat_open` or `rejected`."""
    submitted = await submit(system, subdomain, connection_code=code)

    async def settled() -> str | None:
        async with client(system) as http:
            response = await http.get(
                f"/api/portal/requests/{submitted['request_id']}", headers=bearer(submitted["token"])
            )
        status = response.json()["status"]
        return status if status in {"chat_open", "rejected", "cancelled"} else None

    return await eventually(settled, timeout=30, what="the request with a code is connected or rejected")


async def test_removing_a_company_ends_the_technicians_access_to_it_at_once(system, revocable):
    tenant, technician = revocable, revocable.technicians["moved"]
    token, y = technician["token"], tenant.companies["y"]
    chat = await open_phone_chat(system, tenant, "y", "moved")
    earlier = await issue_code(system, token, y)
    assert earlier.status_code == 201, earlier.text
    session_url = ws_url(system.gateway_url, f"/api/chat/ws/{chat.session_id}")
    async with ChatSocket(system.gateway_url, chat.session_id, token) as open_socket:
        await open_socket.wait_for(lambda f: f["type"] == "session")

        async with client(system) as http:
            change = await http.patch(
                f"/api/portal/technicians/{technician['technician_id']}",
                json={"company_ids": [tenant.companies["x"]]},
                headers=bearer(tenant.admin_token),
            )
        assert change.status_code == 200, change.text

        # The open chat socket of company Y is closed, with a reason a person can read.
        code, reason = await open_socket.wait_closed(timeout=20)
        assert code in SOCKET_REFUSED and reason, (code, reason)

    async def refused_everywhere() -> bool:
        async with client(system) as http:
            headers = bearer(token)
            reading = await http.get(f"/api/chat/sessions/{chat.session_id}", headers=headers)
            transcript = await http.get(f"/api/chat/sessions/{chat.session_id}/transcript", headers=headers)
            issuing = await http.post("/api/dispatch/codes", json={"company_id": y}, headers=headers)
            listing = await http.get("/api/chat/sessions?limit=100", headers=headers)
        listed = listing.status_code == 200 and any(
            s["session_id"] == chat.session_id for s in listing.json()["sessions"]
        )
        return refused(reading) and refused(transcript) and refused(issuing) and not listed

    await eventually(refused_everywhere, timeout=10, what="the old token is refused for company Y")
    code, reason = await refused_socket(session_url, token)
    assert code in SOCKET_REFUSED | {403}, (code, reason)
    # The code issued while they had Y connects nobody now.
    assert await connected_by_code(system, tenant.portals["y"]["subdomain"], earlier.json()["code"]) == "rejected"
    # Company X is untouched: the same token still issues codes for it.
    assert (await issue_code(system, token, tenant.companies["x"])).status_code == 201


async def test_a_deleted_technician_is_refused_everywhere_at_once(system, revocable):
    tenant, technician = revocable, revocable.technicians["deleted"]
    token, x = technician["token"], tenant.companies["x"]
    chat = await open_phone_chat(system, tenant, "x", "deleted")
    earlier = await issue_code(system, token, x)
    assert earlier.status_code == 201, earlier.text
    refresh_token = (await login_pair(system, technician["email"]))["refresh_token"]
    async with ChatSocket(system.gateway_url, chat.session_id, token) as open_socket:
        await open_socket.wait_for(lambda f: f["type"] == "session")
        async with client(system) as http:
            deleted = await http.delete(
                f"/api/portal/technicians/{technician['technician_id']}", headers=bearer(tenant.admin_token)
            )
        assert deleted.status_code in {200, 204}, deleted.text
        code, reason = await open_socket.wait_closed(timeout=20)
        assert code in SOCKET_REFUSED and reason, (code, reason)

    async def refused_everywhere() -> bool:
        async with client(system) as http:
            headers = bearer(token)
            responses = [
                await http.get(f"/api/chat/sessions/{chat.session_id}", headers=headers),
                await http.get(f"/api/chat/sessions/{chat.session_id}/transcript", headers=headers),
                await http.post("/api/dispatch/codes", json={"company_id": x}, headers=headers),
            ]
            # A listing may refuse, or answer with nothing in it: either way nothing is shown.
            listings = [
                (await http.get("/api/chat/sessions", headers=headers), "sessions"),
                (await http.get("/api/dispatch/requests", headers=headers), "requests"),
                (await http.get("/api/dispatch/codes", headers=headers), "codes"),
            ]
        still = [f"{r.request.method} {r.request.url.path}: {r.status_code}" for r in responses if not refused(r)]
        still += [
            f"GET {r.request.url.path}: {r.status_code} {r.text[:200]}"
            for r, key in listings
            if not (refused(r) or (r.status_code == 200 and not r.json()[key]))
        ]
        last[:] = still
        return not still

    last: list[str] = []
    try:
        await eventually(refused_everywhere, timeout=10, what="the deleted technician's token is refused")
    except NotReached as error:
        raise AssertionError(f"{error}; still accepted: {last}") from error
    code, reason = await refused_socket(ws_url(system.gateway_url, f"/api/chat/ws/{chat.session_id}"), token)
    assert code in SOCKET_REFUSED | {403}, (code, reason)
    code, reason = await refused_socket(ws_url(system.gateway_url, "/api/presence/ws"), token)
    assert code in SOCKET_REFUSED | {403}, (code, reason)
    assert await connected_by_code(system, tenant.portals["x"]["subdomain"], earlier.json()["code"]) == "rejected"
    # (e) Nor does their refresh token buy a new access token.
    async with client(system) as http:
        again = await http.post("/api/portal/auth/refresh", json={"refresh_token": refresh_token})
    assert_error(again, 401)


# ---------- (b) control characters: refused with a field error, never a forged line ----------

CONTROLLED = {
    "line feed forging a line": "Casey\n" + FORGED,
    "carriage return": "Casey\r" + FORGED,
    "escape sequence": "Casey\x1b[2J",
    "NUL": "Casey\x00",
    "line separator": "Casey\u2028" + FORGED,
    "right-to-left override": "Casey\u202etxt.exe",
}


def field_error(response: httpx.Response, field: str) -> None:
    body = assert_error(response, 422)
    fields = [f.get("field", "") for f in body.get("fields", [])]
    assert any(f == field or f.endswith("." + field) for f in fields), body


@pytest.mark.parametrize("value", CONTROLLED.values(), ids=CONTROLLED.keys())
async def test_names_with_control_characters_are_refused_with_a_field_error(value, system, revocable):
    tenant = revocable
    admin = bearer(tenant.admin_token)
    async with client(system) as http:
        portal = tenant.portals["x"]["subdomain"]
        customer = await http.post(
            f"/api/portal/public/portals/{portal}/requests", json={"customer_name": value, "description": "x"}
        )
        field_error(customer, "customer_name")
        company = await http.post("/api/portal/companies", json={"name": value}, headers=admin)
        field_error(company, "name")
        body = {"name": value, "email": "ctl-tech@revoke.test", "password": PASSWORD, "company_ids": [], "capacity": 1}
        technician = await http.post("/api/portal/technicians", json=body, headers=admin)
        field_error(technician, "name")
        renamed = await http.patch(
            f"/api/portal/technicians/{tenant.technicians['moved']['technician_id']}",
            json={"name": value},
            headers=admin,
        )
        field_error(renamed, "name")
        signup = {"account_name": value, "admin_name": "A", "admin_email": "ctl@acct.test", "admin_password": PASSWORD}
        field_error(await http.post("/api/portal/accounts", json=signup), "account_name")


@pytest.mark.parametrize("value", ["It broke\x1b[2J", "It broke\r" + FORGED, "It broke\u2028" + FORGED])
async def test_a_description_with_control_characters_is_refused(value, system, revocable):
    async with client(system) as http:
        portal = revocable.portals["x"]["subdomain"]
        response = await http.post(
            f"/api/portal/public/portals/{portal}/requests", json={"customer_name": "Casey", "description": value}
        )
    field_error(response, "description")


async def test_a_transcript_never_contains_a_forged_line(system, victim):
    """Line breaks are fine in a description and a message; the transcript keeps each on its own line."""
    await wait_known_to_presence(system, victim.technicians["owner"]["token"])
    chat = await open_phone_chat(system, victim, "phone", "owner", description="It broke\n" + FORGED)
    async with ChatSocket(system.gateway_url, chat.session_id, chat.customer_token) as customer:
        await customer.send({"type": "message", "text": "hello\n" + FORGED + "\r\n" + FORGED, "client_id": "forge-1"})
        await customer.wait_for(lambda f: f["type"] == "message" and f.get("client_id") == "forge-1")
    for token in (chat.technician_token, chat.customer_token):
        async with client(system) as http:
            transcript = await http.get(f"/api/chat/sessions/{chat.session_id}/transcript", headers=bearer(token))
        assert transcript.status_code == 200, transcript.text
        lines = transcript.text.splitlines()
        assert any("hello" in line for line in lines), transcript.text
        assert not [line for line in lines if line.startswith("[2020-01-01")], transcript.text
        # Only real message lines start with a time stamp, and each names a real author.
        stamped = [line for line in lines if line.startswith("[")]
        assert all(re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] (Customer|Technician|--)", line) for line in stamped)


# ---------- (c) the gateway's own errors: JSON on /api/, a branded page elsewhere ----------


def gateway_json_error(response: httpx.Response, status: int) -> None:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert_error(response, status)


def branded_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert "Assistline" in response.text and "nginx" not in response.text.lower()
    # Self-contained: nothing loaded from elsewhere while the system is down.
    assert not re.search(r"(src|href)=\"https?://", response.text)


async def test_body_too_large_and_unknown_routes_are_json_on_the_api(system):
    big = b"{" + b" " * 70_000 + b"}"
    async with client(system) as http:
        for path in (
            "/api/portal/accounts",
            "/api/chat/sessions/x/end",
            "/api/dispatch/codes",
            "/api/presence/me/status",
        ):
            response = await http.post(path, content=big, headers={"Content-Type": "application/json"})
            gateway_json_error(response, 413)
        for path in ("/api/nothing", "/api/", "/api/unknown/deep/path?x=1"):
            gateway_json_error(await http.get(path), 404)
        # Operators' process statistics are not published through the gateway.
        for service in ("portal", "presence", "dispatch", "chat", "webhook"):
            gateway_json_error(await http.get(f"/api/{service}/stats"), 404)
        gateway_json_error(await http.get("/api/dispatch/stats/contention"), 404)
        # A service's own 404 passes through untouched (the gateway rewrites nothing of theirs).
        own = await http.get("/api/portal/no-such-route")
        assert_error(own, 404)
        branded_page(await http.post("/p/anything", content=big), 413)
        branded_page(await http.get("/ui/no-such-file.html"), 404)


async def test_a_stopped_service_is_json_on_the_api_and_a_branded_page_elsewhere(system):
    portal = system.service("portal-svc")
    portal.stop()
    try:
        async with client(system) as http:
            gateway_json_error(await http.get("/api/portal/health"), 502)
            gateway_json_error(await http.post("/api/portal/auth/login", json={"email": "a@b.c", "password": "x"}), 502)
            branded_page(await http.get("/p/somewhere"), 502)
            branded_page(await http.get("/"), 502)
    finally:
        portal.start()
        await system.wait_ready()


# ---------- (d) no credential in a URL ----------


async def test_a_token_in_the_url_is_refused_and_the_subprotocol_works(system, victim, victim_chat):
    technician = victim.technicians["owner"]["token"]
    for path, token in (
        (f"/api/chat/ws/{victim_chat.session_id}", victim_chat.customer_token),
        (f"/api/chat/ws/{victim_chat.session_id}", technician),
        ("/api/presence/ws", technician),
    ):
        url = ws_url(system.gateway_url, path)
        try:
            async with websockets.connect(f"{url}?token={token}", open_timeout=15) as socket:
                with pytest.raises(ConnectionClosed):
                    while True:
                        frame = json.loads(await socket.recv())
                        assert frame["type"] == "error", (path, frame)
                assert socket.close_code in SOCKET_REFUSED, (path, socket.close_code)
        except InvalidStatus as error:
            assert error.response.status_code in {401, 403}, path
        async with websockets.connect(url, subprotocols=websocket_subprotocols(token), open_timeout=15) as socket:  # type: ignore[arg-type]
            assert socket.subprotocol == "assistline", path
            frame = json.loads(await socket.recv())
            assert frame["type"] in {"hello", "session", "message"}, (path, frame)


# ---------- (e) short-lived staff tokens and the refresh path ----------


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


async def login_pair(system, email: str) -> dict[str, Any]:
    async with client(system) as http:
        return await login(http, email)


async def test_staff_tokens_are_short_lived_and_refresh_silently(system, revocable):
    technician = revocable.technicians["moved"]
    signed_in = await login_pair(system, technician["email"])
    access, refresh = claims(signed_in["token"]), claims(signed_in["refresh_token"])
    # The access token lives `expires_in` (10 minutes by default; the test system sets it
    # longer so slow runs do not need refreshing); the refresh token outlives it.
    assert abs(access["exp"] - access["iat"] - signed_in["expires_in"]) <= 1, (access, signed_in["expires_in"])
    assert refresh["exp"] - refresh["iat"] > signed_in["expires_in"], refresh
    async with client(system) as http:
        refreshed = await http.post("/api/portal/auth/refresh", json={"refresh_token": signed_in["refresh_token"]})
        assert refreshed.status_code == 200, refreshed.text
        pair = refreshed.json()
        assert {"token", "refresh_token", "expires_in"} <= pair.keys()
        assert (await http.get("/api/portal/auth/me", headers=bearer(pair["token"]))).status_code == 200
        # The refresh token is good for refreshing only, never as an access token.
        assert_error(await http.get("/api/portal/auth/me", headers=bearer(signed_in["refresh_token"])), 401)
        assert_error(await http.post("/api/portal/auth/refresh", json={"refresh_token": pair["token"]}), 401)
        assert_error(await http.post("/api/portal/auth/refresh", json={"refresh_token": "not.a.jwt"}), 401)


# ---------- (2) no token in any log line ----------


def log_files(system) -> list[Path]:
    """The gateway's and the services' output, kept by testkit's System under `run_dir/logs`."""
    return sorted((Path(system.run_dir) / "logs").glob("*.log"))


@pytest.fixture(scope="module")
async def logged(system) -> Tenant:
    """An account of its own: the shared victim's technician may be at capacity with other tests' chats."""
    return await create_tenant(
        system,
        "Logged",
        companies={"phone": {"mode": "phone", "portal_type": "smart_pin"}},
        technicians={"owner": ["phone"]},
    )


async def test_no_log_line_of_the_gateway_or_a_service_holds_a_token(system, logged):
    victim = logged
    if not log_files(system):
        pytest.skip("testkit's System does not keep the processes' output in files yet (run_dir/logs/*.log)")
    issued: set[str] = set()
    owner = victim.technicians["owner"]
    await wait_known_to_presence(system, owner["token"])
    technician = await Staff.sign_in(system.gateway_url, owner["email"], PASSWORD)
    issued |= {technician.token, technician.login["refresh_token"]}
    try:
        async with HelpCenter(technician):
            chat = await open_phone_chat(system, victim, "phone", "owner", description="logged?")
            issued |= {chat.customer_token, chat.technician_token}
            async with ChatSocket(system.gateway_url, chat.session_id, chat.customer_token) as customer:
                await customer.send({"type": "message", "text": "hello", "client_id": "log-1"})
                await customer.wait_for(lambda f: f["type"] == "message" and f.get("client_id") == "log-1")
            # Old-style URLs too: refused, and not written down anywhere either.
            await refused_socket(ws_url(system.gateway_url, "/api/presence/ws") + f"?token={technician.token}", "x")
    finally:
        await technician.close()
    marker = f"/api/portal/public/portals/log-marker-{chat.session_id}"
    async with client(system) as http:
        await http.get(marker)

    def flushed() -> bool:  # the gateway writes its access line once the response is sent
        return any(marker in path.read_text(errors="replace") for path in log_files(system))

    await eventually(flushed, what="the gateway logged the marker request")
    for path in log_files(system):
        text = path.read_text(errors="replace")
        leaks = [token for token in issued if token in text]
        assert not leaks, f"{path.name} holds an issued token"
        assert "token=" not in text, f"{path.name}: {text[text.index('token=') - 200 : text.index('token=') + 40]}"
        assert not JWT.search(text), f"{path.name} holds a JWT: {JWT.search(text)}"
