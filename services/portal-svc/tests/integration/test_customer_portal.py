"""What customers see (the view matrix), what they may submit, and how they follow a request."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    RequestAssigned,
    RequestOffered,
    RequestQueued,
    RequestRejected,
    TechnicianAvailable,
    TechnicianUnavailable,
)
from servicekit.auth import Role
from testkit import bearer, eventually
from testkit.amqp import AmqpTap
from testkit.plugin import make_token

pytestmark = pytest.mark.integration


async def view_of(portal, subdomain: str) -> dict:
    return (await portal.http.get(f"/api/portal/public/portals/{subdomain}")).json()


async def technician_for(portal, admin, company_id: str, name: str) -> str:
    created = await portal.http.post(
        "/api/portal/technicians",
        json={
            "name": name,
            "email": f"{uuid.uuid4().hex[:8]}@acme.test",
            "password": "tech-password",
            "company_ids": [company_id],
        },
        headers=admin,
    )
    return created.json()["technician_id"]


def available(technician_id: str, company_id: str, name: str, sequence: int) -> TechnicianAvailable:
    return TechnicianAvailable(
        technician_id=technician_id,
        account_id="acc_acme",
        display_name=name,
        company_ids=[company_id],
        capacity=3,
        sequence=sequence,
    )


def unavailable(technician_id: str, company_id: str, sequence: int) -> TechnicianUnavailable:
    return TechnicianUnavailable(
        technician_id=technician_id, account_id="acc_acme", company_ids=[company_id], reason="chosen", sequence=sequence
    )


async def test_view_matrix(portal, admin):
    # Web + somebody available (Ben, from presence's start-up snapshot) -> the form.
    globex = await view_of(portal, "globex")
    assert (globex["view"], globex["company_name"], globex["technicians"]) == ("form", "Globex", [])
    assert (await view_of(portal, "initech"))["view"] == "form"  # Queue: form whoever is available
    nobody = await portal.new_portal(admin, mode="web", portal_type="smart_box")
    assert (await view_of(portal, nobody["subdomain"]))["view"] == "no_technician"
    phone = await portal.new_portal(admin, mode="phone", portal_type="smart_pin")
    assert (await view_of(portal, phone["subdomain"]))["view"] == "code_entry"
    for mode, kind in (("web", "smart_box"), ("queue", "smart_box"), ("phone", "smart_pin")):
        inactive = await portal.new_portal(admin, mode=mode, portal_type=kind, status="inactive")
        shown = await view_of(portal, inactive["subdomain"])
        assert shown["view"] == "unavailable"
        assert shown["message"] == "Service unavailable — we apologise for this temporary inconvenience."
    missing = await portal.http.get("/api/portal/public/portals/nobody-here")
    assert missing.status_code == 404 and missing.json()["error"] == "portal_not_found"


async def test_smart_match_lists_available_technicians_and_tracks_presence_events(portal, admin):
    match = await portal.new_portal(admin, mode="web", portal_type="smart_match")
    zoe = await technician_for(portal, admin, match["company_id"], "Zoe")
    yan = await technician_for(portal, admin, match["company_id"], "Yan")
    await portal.publish(available(zoe, match["company_id"], "Zoe", 5))
    await portal.publish(available(yan, match["company_id"], "Yan", 1))

    async def names():
        return [t["display_name"] for t in (await view_of(portal, match["subdomain"]))["technicians"]]

    assert await eventually(lambda: _equals(names, ["Yan", "Zoe"]))
    await portal.publish(unavailable(zoe, match["company_id"], 3))  # older than 5: stale, ignored
    await portal.publish(unavailable(yan, match["company_id"], 2))
    assert await eventually(lambda: _equals(names, ["Zoe"]))
    await portal.http.delete(f"/api/portal/technicians/{zoe}", headers=admin)
    # Removed from the account: never offered to customers, whatever presence last said.
    shown = await view_of(portal, match["subdomain"])
    assert (shown["view"], shown["technicians"]) == ("no_technician", [])


async def _equals(get, expected):
    return await get() == expected


async def test_html_pages_by_path_and_by_host(portal, admin):
    page = await portal.http.get("/p/globex")
    assert page.status_code == 200 and 'id="request-form"' in page.text and "Globex support" in page.text
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]
    by_host = await portal.http.get("/", headers={"Host": "initech.localhost:8080"})
    assert "Initech support" in by_host.text and "place in the queue" in by_host.text
    inactive = await portal.new_portal(admin, mode="web", portal_type="smart_box", status="inactive")
    closed = await portal.http.get(f"/p/{inactive['subdomain']}")
    assert "Service unavailable — we apologise" in closed.text and "request-form" not in closed.text
    nobody = await portal.new_portal(admin, mode="web", portal_type="smart_box")
    assert "No technician is available right now" in (await portal.http.get(f"/p/{nobody['subdomain']}")).text
    phone = await portal.new_portal(admin, mode="phone", portal_type="smart_pin")
    assert 'name="connection_code"' in (await portal.http.get(f"/p/{phone['subdomain']}")).text
    assert (await portal.http.get("/p/unknown-portal")).status_code == 404
    landing = await portal.http.get("/", headers={"Host": "localhost:8080"})  # no portal's host: the landing page
    assert landing.status_code == 200 and "Assistline" in landing.text and "request-form" not in landing.text
    assert (await portal.http.get("/api/portal/static/portal.css")).status_code == 200
    page = (await portal.http.get(f"/p/{phone['subdomain']}")).text
    assert f'<div id="assistline-portal" data-subdomain="{phone["subdomain"]}">' in page
    assert '<script type="module" src="/ui/customer/portal.js"></script>' in page


async def test_html_escapes_names(portal, admin):
    company = (
        await portal.http.post("/api/portal/companies", json={"name": "<script>alert(1)</script>"}, headers=admin)
    ).json()
    sub = f"esc-{uuid.uuid4().hex[:6]}"
    created = await portal.http.post(
        "/api/portal/portals",
        json={"company_id": company["company_id"], "subdomain": sub, "mode": "web", "portal_type": "smart_match"},
        headers=admin,
    )
    technician = await technician_for(portal, admin, company["company_id"], '"><img src=x onerror=alert(1)>')
    await portal.publish(available(technician, company["company_id"], '"><img src=x onerror=alert(1)>', 1))

    async def listed():
        return (await view_of(portal, sub))["technicians"]

    await eventually(listed)
    html = (await portal.http.get(f"/p/{created.json()['subdomain']}")).text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


async def test_every_validation_error_is_a_clear_4xx(portal, admin):
    phone = await portal.new_portal(admin, mode="phone", portal_type="smart_pin")
    nobody = await portal.new_portal(admin, mode="web", portal_type="smart_box")
    inactive = await portal.new_portal(admin, mode="queue", portal_type="smart_box", status="inactive")
    match = await portal.new_portal(admin, mode="web", portal_type="smart_match")
    someone = await technician_for(portal, admin, match["company_id"], "Sam")
    await portal.publish(available(someone, match["company_id"], "Sam", 1))
    await eventually(lambda: _truthy_view(portal, match["subdomain"]))
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("globex", {"customer_name": ""}, 422, "validation_failed"),
        ("globex", {"customer_name": "x" * 101}, 422, "validation_failed"),
        ("globex", {"customer_email": "not-an-email"}, 422, "validation_failed"),
        ("globex", {"description": "x" * 2001}, 422, "validation_failed"),
        ("globex", {"description": "   "}, 422, "validation_failed"),
        ("globex", {"surprise": 1}, 422, "validation_failed"),
        ("globex", {"connection_code": "123456789"}, 422, "unexpected_field"),
        ("globex", {"chosen_technician_id": "tec_ben"}, 422, "unexpected_field"),
        (phone["subdomain"], {"connection_code": "12345"}, 422, "validation_failed"),
        (phone["subdomain"], {"connection_code": "12345678a"}, 422, "validation_failed"),
        (phone["subdomain"], {}, 422, "validation_failed"),
        (match["subdomain"], {}, 422, "validation_failed"),
        (match["subdomain"], {"chosen_technician_id": "tec_ben"}, 409, "technician_unavailable"),
        (nobody["subdomain"], {}, 409, "no_technician"),
        (inactive["subdomain"], {}, 409, "portal_unavailable"),
        ("no-such-portal", {}, 404, "portal_not_found"),
    ]
    for subdomain, fields, status, error in cases:
        response = await portal.submit(subdomain, **fields)
        assert (response.status_code, response.json()["error"]) == (status, error), (subdomain, fields, response.text)
        assert response.json()["message"]
    assert (await portal.submit(phone["subdomain"], connection_code="123456789")).status_code == 201
    assert (await portal.submit(match["subdomain"], chosen_technician_id=someone)).status_code == 201
    not_json = await portal.http.post(
        "/api/portal/public/portals/globex/requests", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422


async def _truthy_view(portal, subdomain):
    return (await view_of(portal, subdomain))["technicians"]


async def test_submissions_are_rate_limited_per_client_address(portal):
    address = {"X-Forwarded-For": "203.0.113.7, 10.1.2.3"}
    for _ in range(10):
        response = await portal.http.post("/api/portal/public/portals/globex/requests", json={}, headers=address)
        assert response.status_code == 422  # malformed attempts count too
        assert response.status_code != 429
    limited = await portal.http.post("/api/portal/public/portals/globex/requests", json={}, headers=address)
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert "too many submissions" in limited.json()["message"]
    elsewhere = await portal.submit("globex")
    assert elsewhere.status_code == 201


async def test_customer_follows_queue_position_assignment_and_chat(portal):
    first, second = [(await portal.submit("initech")).json() for _ in range(2)]
    t0 = datetime.now(UTC)

    def queued(request, since):
        return RequestQueued(
            request_id=request["request_id"],
            account_id="acc_acme",
            company_id="cmp_initech",
            position=1,
            queued_since=since,
        )

    async def status(request):
        return (
            await portal.http.get(f"/api/portal/requests/{request['request_id']}", headers=bearer(request["token"]))
        ).json()

    await portal.publish(queued(second, t0 + timedelta(seconds=1)))
    await portal.publish(queued(first, t0))
    assert await eventually(lambda: _field(status, second, "position", 2))
    assert (await status(first))["position"] == 1
    assigned_at = datetime.now(UTC) + timedelta(seconds=1)
    await portal.publish(
        RequestAssigned(
            request_id=first["request_id"],
            account_id="acc_acme",
            company_id="cmp_initech",
            technician_id="tec_chloe",
            mode="queue",
            portal_type="smart_box",
            customer_name="Carla",
            alert=True,
            assigned_at=assigned_at,
        ),
        occurred_at=assigned_at,
    )
    assigned = await eventually(lambda: _field(status, first, "status", "assigned"))
    assert assigned["technician"] == {"technician_id": "tec_chloe", "display_name": "Chloe"}
    assert assigned["cancellable"] is False
    assert (await status(second))["position"] == 1  # the one ahead left the queue
    # A late duplicate of the older queued event changes nothing. Barrier: a later event on
    # the same queue (consumed in order) has taken effect, so the duplicate was consumed too.
    await portal.publish(queued(first, t0), occurred_at=t0)
    third = (await portal.submit("initech")).json()
    await portal.publish(queued(third, t0 + timedelta(seconds=2)))
    await eventually(lambda: _field(status, third, "status", "queued"))
    assert (await status(first))["status"] == "assigned"
    await portal.publish(
        ChatSessionStarted(
            session_id="cht_1",
            request_id=first["request_id"],
            account_id="acc_acme",
            company_id="cmp_initech",
            technician_id="tec_chloe",
        )
    )
    chat = await eventually(lambda: _field(status, first, "status", "chat_open"))
    assert (chat["session_id"], chat["chat_ws_path"]) == ("cht_1", "/api/chat/ws/cht_1")
    await portal.publish(
        ChatSessionEnded(
            session_id="cht_1",
            request_id=first["request_id"],
            account_id="acc_acme",
            company_id="cmp_initech",
            technician_id="tec_chloe",
            ended_by="technician",
            outcome="resolved",
        )
    )
    ended = await eventually(lambda: _field(status, first, "status", "ended"))
    assert ended["chat_ws_path"] is None


async def _field(get, request, key, value):
    current = await get(request)
    return current if current.get(key) == value else None


async def test_offered_and_rejected_statuses(portal, admin):
    offered = (await portal.submit("globex")).json()
    await portal.publish(
        RequestOffered(
            request_id=offered["request_id"],
            account_id="acc_acme",
            company_id="cmp_globex",
            technician_ids=["tec_ben"],
            portal_type="smart_box",
            customer_name="Carla",
            expires_at=datetime.now(UTC) + timedelta(seconds=30),
        )
    )

    async def status(request):
        return (
            await portal.http.get(f"/api/portal/requests/{request['request_id']}", headers=bearer(request["token"]))
        ).json()

    assert (await eventually(lambda: _field(status, offered, "status", "offered")))["cancellable"] is True
    phone = await portal.new_portal(admin, mode="phone", portal_type="smart_pin")
    coded = (await portal.submit(phone["subdomain"], connection_code="000000000")).json()
    await portal.publish(
        RequestRejected(
            request_id=coded["request_id"],
            account_id="acc_acme",
            company_id=phone["company_id"],
            reason="invalid_code",
            message="This code is invalid or has expired.",
        )
    )
    rejected = await eventually(lambda: _field(status, coded, "status", "rejected"))
    assert (rejected["reason"], rejected["message"]) == ("invalid_code", "This code is invalid or has expired.")


async def test_cancel_before_assignment_only_and_only_with_that_requests_token(portal):
    mine, other = [(await portal.submit("initech")).json() for _ in range(2)]
    path = f"/api/portal/requests/{mine['request_id']}"
    assert (await portal.http.get(path)).status_code == 401
    assert (await portal.http.get(path, headers=bearer(other["token"]))).status_code == 403
    technician = await portal.login("chloe@acme.test")
    assert (await portal.http.get(path, headers=bearer(technician))).status_code == 403
    forged = make_token(
        Role.CUSTOMER, subject=mine["request_id"], account_id="acc_acme", request_id=mine["request_id"], secret="x" * 40
    )
    assert (await portal.http.get(path, headers=bearer(forged))).status_code == 401
    async with AmqpTap(portal.rabbitmq_url, "request.cancelled.*") as tap:
        cancelled = await portal.http.post(path + "/cancel", headers=bearer(mine["token"]))
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        event = await tap.wait_for(lambda m: m["data"]["request_id"] == mine["request_id"])
    assert (event["data"]["company_id"], event["producer"]) == ("cmp_initech", "portal-svc")
    assert (await portal.http.post(path + "/cancel", headers=bearer(mine["token"]))).json()["status"] == "cancelled"
    now = datetime.now(UTC)
    await portal.publish(
        RequestAssigned(
            request_id=other["request_id"],
            account_id="acc_acme",
            company_id="cmp_initech",
            technician_id="tec_chloe",
            mode="queue",
            portal_type="smart_box",
            customer_name="Carla",
            alert=True,
            assigned_at=now,
        )
    )

    async def status(request):
        return (
            await portal.http.get(f"/api/portal/requests/{request['request_id']}", headers=bearer(request["token"]))
        ).json()

    await eventually(lambda: _field(status, other, "status", "assigned"))
    late = await portal.http.post(f"/api/portal/requests/{other['request_id']}/cancel", headers=bearer(other["token"]))
    assert late.status_code == 409 and late.json()["error"] == "already_assigned"
    assert "end the chat" in late.json()["message"]
