"""Cross-tenant and cross-request access attempts, on every endpoint and WebSocket, are refused."""

import json
from datetime import timedelta

import jwt
import pytest
import websockets
from secsupport import CUSTOMER, OPERATIONS, PUBLIC, assert_error, bearer, client
from websockets.exceptions import ConnectionClosed

from servicekit.auth import Principal, Role, issue_token
from testkit.plugin import DEV_SECRET, make_token

pytestmark = pytest.mark.e2e

AUTHENTICATED = {operation: roles for operation, roles in OPERATIONS.items() if roles != PUBLIC}
STAFF_ONLY = [operation for operation, roles in AUTHENTICATED.items() if CUSTOMER not in roles]


def concrete(operation: str, victim, chat) -> tuple[str, str]:
    """The operation aimed at the victim's things (their ids in the path)."""
    method, path = operation.split(" ", 1)
    ids = {
        "technician_id": victim.technicians["owner"]["technician_id"],
        "portal_id": victim.portals["phone"]["portal_id"],
        "request_id": chat.request_id,
        "session_id": chat.session_id,
        "code_id": "cod_0000000000000000",
        "address": "owner@victim.test",
        "company_id": victim.companies["phone"],
        "scope": "account",
        "reply_id": "cnr_0000000000000000",
        "message_id": "msg_0000000000000000",
        "endpoint_id": "whe_0000000000000000",
        "delivery_id": "whd_0000000000000000",
        "supervisor_id": "sup_0000000000000000",
    }
    return method, path.format(**ids)


def forged_tokens(victim) -> dict[str, str]:
    admin = Principal(subject="adm_x", role=Role.ADMIN, account_id=victim.account_id)
    unsigned = jwt.encode(
        {"iss": "assistline", "sub": "adm_x", "role": "admin", "acc": victim.account_id, "exp": 4102444800},
        key=None,
        algorithm="none",
    )
    return {
        "wrong secret": make_token(
            Role.ADMIN, subject="adm_x", account_id=victim.account_id, secret="not-the-secret" * 3
        ),
        "expired": issue_token(admin, DEV_SECRET, timedelta(seconds=-5)),
        "unsigned (alg none)": unsigned,
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize("operation", list(AUTHENTICATED))
async def test_forged_and_expired_tokens_are_refused_everywhere(operation, system, victim, victim_chat):
    method, path = concrete(operation, victim, victim_chat)
    async with client(system) as http:
        missing = await http.request(method, path, json={})
        assert_error(missing, 401, "missing_token")
        for name, token in forged_tokens(victim).items():
            response = await http.request(method, path, json={}, headers=bearer(token))
            body = assert_error(response, 401)
            assert body["error"] == ("token_expired" if name == "expired" else "invalid_token"), (name, body)


@pytest.mark.parametrize("operation", STAFF_ONLY)
async def test_a_customer_token_opens_no_staff_endpoint(operation, system, victim, victim_chat):
    method, path = concrete(operation, victim, victim_chat)
    async with client(system) as http:
        response = await http.request(method, path, json={}, headers=bearer(victim_chat.customer_token))
    assert_error(response, 403)


async def test_another_accounts_admin_sees_and_changes_nothing(system, victim, rival, victim_chat):
    portal = victim.portals["phone"]["portal_id"]
    technician = victim.technicians["owner"]["technician_id"]
    headers = bearer(rival.admin_token)
    async with client(system) as http:
        for method, path, body in [
            ("GET", f"/api/portal/portals/{portal}", None),
            ("PATCH", f"/api/portal/portals/{portal}", {"status": "inactive"}),
            ("POST", f"/api/portal/portals/{portal}/deactivate", None),
            ("GET", f"/api/portal/portals/{portal}/embed", None),
            ("PATCH", f"/api/portal/technicians/{technician}", {"name": "Hijacked"}),
            ("DELETE", f"/api/portal/technicians/{technician}", None),
        ]:
            assert_error(await http.request(method, path, json=body, headers=headers), 404)
        # Their own technician cannot be given the victim's companies, nor a portal made for one.
        granted = await http.patch(
            f"/api/portal/technicians/{rival.technicians['rival']['technician_id']}",
            json={"company_ids": [victim.companies["phone"]]},
            headers=headers,
        )
        assert_error(granted, 422, "unknown_company")
        stolen = await http.post(
            "/api/portal/portals",
            json={
                "company_id": victim.companies["guess"],
                "subdomain": "stolen-portal",
                "mode": "web",
                "portal_type": "smart_box",
            },
            headers=headers,
        )
        assert 400 <= stolen.status_code < 500 and stolen.status_code != 401, stolen.text
        for listing, key in [
            ("/api/portal/companies", "company_id"),
            ("/api/portal/technicians", "technician_id"),
            ("/api/portal/portals", "portal_id"),
        ]:
            response = await http.get(listing, headers=headers)
            assert response.status_code == 200, response.text
            theirs = {item[key] for item in response.json()}
            mine = (
                set(victim.companies.values())
                | {t["technician_id"] for t in victim.technicians.values()}
                | {p["portal_id"] for p in victim.portals.values()}
            )
            assert not theirs & mine, listing
        snapshot = await http.get("/api/presence/snapshot", headers=headers)
        assert snapshot.status_code == 200, snapshot.text
        assert all(t["account_id"] != victim.account_id for t in snapshot.json()["technicians"])
        sessions = await http.get("/api/chat/sessions", headers=headers)
        assert sessions.status_code == 200, sessions.text
        assert all(s["account_id"] == rival.account_id for s in sessions.json()["sessions"])
        for path in (
            f"/api/chat/sessions/{victim_chat.session_id}",
            f"/api/chat/sessions/{victim_chat.session_id}/transcript",
        ):
            assert_error(await http.get(path, headers=headers), 403)
        # The victim's portal is untouched.
        mine = await http.get(f"/api/portal/portals/{portal}", headers=bearer(victim.admin_token))
        assert mine.json()["status"] == "active"


@pytest.mark.parametrize("intruder", ["outsider", "rival"])
async def test_a_technician_without_access_to_the_company_is_refused(intruder, system, victim, rival, victim_chat):
    tenant = victim if intruder == "outsider" else rival
    token = tenant.technicians[intruder]["token"]
    headers = bearer(token)
    session = victim_chat.session_id
    async with client(system) as http:
        code = await http.post("/api/dispatch/codes", json={"company_id": victim.companies["phone"]}, headers=headers)
        assert_error(code, 403)
        accept = await http.post(f"/api/dispatch/requests/{victim_chat.request_id}/accept", headers=headers)
        assert_error(accept, 403)
        for step in ("invite/accept", "invite/decline"):
            answered = await http.post(f"/api/dispatch/requests/{victim_chat.request_id}/{step}", headers=headers)
            assert_error(answered, 403)
        # Leaving needs no company access (a guest may always leave), but only a guest leaves.
        left = await http.post(f"/api/dispatch/requests/{victim_chat.request_id}/leave", headers=headers)
        assert_error(left, 409, "not_in_chat")
        listed = await http.get("/api/dispatch/requests", headers=headers)
        assert listed.status_code == 200 and all(
            r["request_id"] != victim_chat.request_id for r in listed.json()["requests"]
        ), listed.text
        for path in (f"/api/chat/sessions/{session}", f"/api/chat/sessions/{session}/transcript"):
            assert_error(await http.get(path, headers=headers), 403)
        ended = await http.post(f"/api/chat/sessions/{session}/end", json={"outcome": "resolved"}, headers=headers)
        assert_error(ended, 403)
        filtered = await http.get(
            "/api/chat/sessions", params={"company_id": victim.companies["phone"]}, headers=headers
        )
        assert_error(filtered, 403)
        everything = await http.get("/api/chat/sessions", headers=headers)
        assert everything.status_code == 200
        assert all(s["session_id"] != session for s in everything.json()["sessions"])
        # A code of the victim's technician cannot be revoked by another one.
        issued = await http.post(
            "/api/dispatch/codes",
            json={"company_id": victim.companies["phone"]},
            headers=bearer(victim.technicians["owner"]["token"]),
        )
        assert issued.status_code == 201, issued.text
        assert_error(await http.delete(f"/api/dispatch/codes/{issued.json()['code_id']}", headers=headers), 404)
        codes = await http.get("/api/dispatch/codes", headers=headers)
        assert all(c["code_id"] != issued.json()["code_id"] for c in codes.json()["codes"])
        await http.delete(
            f"/api/dispatch/codes/{issued.json()['code_id']}", headers=bearer(victim.technicians["owner"]["token"])
        )


async def test_a_customer_token_is_good_for_its_own_request_only(system, victim, victim_chat, victim_request):
    other = bearer(victim_request["token"])
    async with client(system) as http:
        assert_error(
            await http.get(f"/api/portal/requests/{victim_chat.request_id}", headers=other), 403, "wrong_request"
        )
        assert_error(await http.post(f"/api/portal/requests/{victim_chat.request_id}/cancel", headers=other), 403)
        for path in (
            f"/api/chat/sessions/{victim_chat.session_id}",
            f"/api/chat/sessions/{victim_chat.session_id}/transcript",
        ):
            assert_error(await http.get(path, headers=other), 403)
        # Their own request still answers, and the victim's chat is still open.
        assert (
            await http.get(f"/api/portal/requests/{victim_request['request_id']}", headers=other)
        ).status_code == 200
        status = await http.get(
            f"/api/portal/requests/{victim_chat.request_id}", headers=bearer(victim_chat.customer_token)
        )
        assert status.json()["status"] == "chat_open"


def ws_url(system, path: str, token: str | None) -> str:
    base = system.gateway_url.replace("http://", "ws://") + path
    return f"{base}?token={token}" if token is not None else base


async def close_code(url: str) -> int:
    """The close code the server ends the socket with (frames before it are read and dropped)."""
    async with websockets.connect(url, open_timeout=15) as socket:
        try:
            while True:
                frame = await socket.recv(decode=True)
                if isinstance(frame, str) and json.loads(frame).get("type") not in (None, "error"):
                    raise AssertionError(f"the server let the intruder in: {frame[:300]}")
        except ConnectionClosed:
            pass
        return socket.close_code


def intruders(victim, rival, victim_chat, victim_request) -> dict[str, str | None]:
    owner = victim.technicians["owner"]
    return {
        "no token": None,
        **forged_tokens(victim),
        "customer of another request": victim_request["token"],
        "admin of the account": victim.admin_token,
        "admin of another account": rival.admin_token,
        "technician without the company": victim.technicians["outsider"]["token"],
        "technician of another account": rival.technicians["rival"]["token"],
        # The victim's technician id, in a token naming another account.
        "technician id under another account": make_token(
            Role.TECHNICIAN,
            subject=owner["technician_id"],
            account_id=rival.account_id,
            company_ids=owner["company_ids"],
        ),
    }


async def test_chat_socket_refuses_intruders_with_1008(system, victim, rival, victim_chat, victim_request):
    path = f"/api/chat/ws/{victim_chat.session_id}"
    for name, token in intruders(victim, rival, victim_chat, victim_request).items():
        assert await close_code(ws_url(system, path, token)) == 1008, name


async def test_presence_socket_refuses_everyone_but_a_known_technician_with_1008(
    system, victim, rival, victim_chat, victim_request
):
    refused = {
        **intruders(victim, rival, victim_chat, victim_request),
        "customer of the chat": victim_chat.customer_token,
    }
    # Technicians of either account are welcome here: only impostors are listed.
    for welcome in ("technician without the company", "technician of another account"):
        refused.pop(welcome)
    for name, token in refused.items():
        assert await close_code(ws_url(system, "/api/presence/ws", token)) == 1008, name
