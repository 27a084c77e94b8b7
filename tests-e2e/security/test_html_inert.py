"""HTML/JS payloads typed into forms and chats stay inert: escaped in the portal pages,
stored and returned verbatim as text by chat-svc, transcripts served as plain text."""

import html
import json

import pytest
import websockets
from secsupport import bearer, client, create_tenant, open_phone_chat

from servicekit.auth import websocket_subprotocols

pytestmark = pytest.mark.e2e

PAYLOAD = """<script>alert("xss")</script><img src=x onerror='alert(1)'>"><svg onload=alert(2)>"""


def assert_escaped(page: str, text: str) -> None:
    assert "<script>alert" not in page and "<img src=x" not in page and "<svg onload" not in page, page
    assert html.escape(text) in page, page


async def test_portal_pages_escape_names_and_paths(system):
    tenant = await create_tenant(
        system,
        "Markup",
        companies={PAYLOAD: {"mode": "queue", "portal_type": "smart_box"}},
        technicians={},
    )
    portal = tenant.portals[PAYLOAD]
    async with client(system) as http:
        page = await http.get(f"/p/{portal['subdomain']}")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert_escaped(page.text, f"Markup {PAYLOAD}")
        # The name also reaches the JSON view as data, untouched.
        view = await http.get(f"/api/portal/public/portals/{portal['subdomain']}")
        assert view.json()["company_name"] == f"Markup {PAYLOAD}"
        missing = await http.get("/p/" + PAYLOAD.replace("/", "%2F").replace(" ", "%20"))
        assert missing.status_code == 404
        assert "<script>alert" not in missing.text and "<svg onload" not in missing.text
        embed = await http.get(f"/api/portal/portals/{portal['portal_id']}/embed", headers=bearer(tenant.admin_token))
        assert "<script>alert" not in json.dumps(embed.json())


async def test_form_and_chat_text_are_kept_verbatim_as_text(system, victim):
    chat = await open_phone_chat(system, victim, "phone", "owner", customer_name=PAYLOAD[:100], description=PAYLOAD)
    url = system.gateway_url.replace("http://", "ws://") + f"/api/chat/ws/{chat.session_id}"
    # The token travels as a subprotocol, as the web UI sends it; never in the URL.
    subprotocols = websocket_subprotocols(chat.customer_token)
    async with websockets.connect(url, subprotocols=subprotocols, open_timeout=15) as socket:  # type: ignore[arg-type]
        await socket.send(json.dumps({"type": "message", "text": PAYLOAD, "client_id": "xss-1"}))
        while True:
            frame = json.loads(await socket.recv())
            assert frame["type"] != "error", frame
            if frame["type"] == "message" and frame.get("client_id") == "xss-1":
                assert frame["text"] == PAYLOAD
                break
    headers = bearer(chat.technician_token)
    async with client(system) as http:
        detail = await http.get(f"/api/chat/sessions/{chat.session_id}", headers=headers)
        assert detail.headers["content-type"].startswith("application/json")
        body = detail.json()
        assert body["session"]["customer_name"] == PAYLOAD[:100]
        assert body["session"]["description"] == PAYLOAD
        assert [m["text"] for m in body["messages"] if m["author"] == "customer"] == [PAYLOAD]
        transcript = await http.get(f"/api/chat/sessions/{chat.session_id}/transcript", headers=headers)
        assert transcript.status_code == 200
        assert transcript.headers["content-type"].startswith("text/plain")
        assert transcript.headers["x-content-type-options"] == "nosniff"
        assert transcript.headers["content-disposition"].startswith("attachment")
        assert PAYLOAD in transcript.text
        # The customer's own status view returns the name as data too.
        status = await http.get(f"/api/portal/requests/{chat.request_id}", headers=bearer(chat.customer_token))
        assert status.headers["content-type"].startswith("application/json")
