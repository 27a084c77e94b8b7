"""The customer's side (issue 16): every form error at once, business hours, offline messages
answered by e-mail, the Web customer told when nobody is left, live queue estimates, pages."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import ChatSessionEnded, ChatSessionStarted, RequestAssigned, RequestOffered, RequestQueued
from testkit import bearer, eventually
from testkit.ws import FrameCollector, connect, ws_url

from .test_customer_portal import available, technician_for, unavailable, view_of

pytestmark = pytest.mark.integration

ALWAYS = {
    "time_zone": "UTC",
    "weekly": {d: [{"opens": "00:00", "closes": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
}


def closed_today() -> dict[str, Any]:
    """Open around the clock, except a closure dated today (UTC): closed now, open tomorrow."""
    today = datetime.now(UTC).date().isoformat()
    return {**ALWAYS, "closures": [{"date": today, "note": "Staff training"}]}


async def test_the_request_form_lists_every_problem_at_once_in_plain_words(portal, admin):
    box = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    response = await portal.http.post(
        f"/api/portal/public/portals/{box['subdomain']}/requests",
        json={"customer_name": "  ", "customer_email": "not-an-email", "description": ""},
        headers=portal.client_ip(),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_failed"
    fields = {f["field"]: f["message"] for f in body["fields"]}
    assert fields == {
        "customer_name": "Please enter your name.",
        "customer_email": "Please enter a valid e-mail address, like name@example.com.",
        "description": "Please describe your problem.",
    }
    phone = await portal.new_portal(admin, mode="phone", portal_type="smart_pin")
    response = await portal.http.post(
        f"/api/portal/public/portals/{phone['subdomain']}/requests", json={}, headers=portal.client_ip()
    )
    fields = {f["field"]: f["message"] for f in response.json()["fields"]}
    assert fields == {
        "customer_name": "Please enter your name.",
        "connection_code": "Please enter the 9-digit code your technician read out.",
    }
    # Nothing was accepted for all that.
    assert (await portal.submit(box["subdomain"], customer_name="Cleo")).status_code == 201


async def test_business_hours_are_validated_with_clear_messages(portal, admin):
    created = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    url = f"/api/portal/portals/{created['portal_id']}"
    bad_zone = await portal.http.patch(url, json={"hours": {**ALWAYS, "time_zone": "Mars/Olympus"}}, headers=admin)
    assert bad_zone.status_code == 422 and "IANA time zone" in bad_zone.text
    overlap = {
        "time_zone": "Europe/Paris",
        "weekly": {"mon": [{"opens": "08:00", "closes": "12:00"}, {"opens": "11:00", "closes": "18:00"}]},
    }
    assert "overlap" in (await portal.http.patch(url, json={"hours": overlap}, headers=admin)).text
    backwards = {"time_zone": "Europe/Paris", "weekly": {"tue": [{"opens": "18:00", "closes": "08:00"}]}}
    assert "must be after" in (await portal.http.patch(url, json={"hours": backwards}, headers=admin)).text
    fine = {"time_zone": "Europe/Paris", "weekly": {"mon": [{"opens": "08:00", "closes": "18:00"}]}}
    saved = await portal.http.patch(url, json={"hours": fine}, headers=admin)
    assert saved.status_code == 200 and saved.json()["hours"]["time_zone"] == "Europe/Paris"


async def test_a_closed_portal_says_when_it_opens_and_refuses_requests_but_takes_messages(portal, admin):
    created = await portal.new_portal(admin, mode="queue", portal_type="smart_box", hours=closed_today())
    subdomain = created["subdomain"]
    view = await view_of(portal, subdomain)
    assert view["view"] == "closed"
    assert "Staff training" in view["message"] and "We open again tomorrow at 00:00 (UTC)" in view["message"]
    refused = await portal.submit(subdomain)
    assert refused.status_code == 409 and refused.json()["error"] == "portal_closed"
    assert "We open again" in refused.json()["message"]
    message = await portal.http.post(
        f"/api/portal/public/portals/{subdomain}/messages",
        json={
            "customer_name": "Nora",
            "customer_email": "nora@example.com",
            "text": "Call me back",
            "reason": "closed",
        },
        headers=portal.client_ip(),
    )
    assert message.status_code == 201, message.text
    # Removing the hours opens it again (a PATCH with an explicit null).
    reopened = await portal.http.patch(
        f"/api/portal/portals/{created['portal_id']}", json={"hours": None}, headers=admin
    )
    assert reopened.json()["hours"] is None
    await eventually(lambda: _view_is(portal, subdomain, "form"), what="portal open again")
    assert (await portal.submit(subdomain)).status_code == 201


async def _view_is(portal, subdomain: str, expected: str) -> bool:
    return (await view_of(portal, subdomain))["view"] == expected


async def test_queue_requests_waiting_at_closing_time_stay_queued_and_are_served(portal, admin):
    created = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    submitted = (await portal.submit(created["subdomain"])).json()
    token, request_id = submitted["token"], submitted["request_id"]
    await portal.publish(
        RequestQueued(
            request_id=request_id,
            account_id="acc_acme",
            company_id=created["company_id"],
            position=1,
            queued_since=datetime.now(UTC),
        )
    )
    await eventually(lambda: _status_is(portal, request_id, token, "queued"), what="queued")
    await portal.http.patch(
        f"/api/portal/portals/{created['portal_id']}", json={"hours": closed_today()}, headers=admin
    )
    await eventually(lambda: _view_is(portal, created["subdomain"], "closed"), what="portal closed")
    status = (await portal.http.get(f"/api/portal/requests/{request_id}", headers=bearer(token))).json()
    assert (status["status"], status["position"], status["cancellable"]) == ("queued", 1, True)
    await portal.publish(
        RequestAssigned(
            request_id=request_id,
            account_id="acc_acme",
            company_id=created["company_id"],
            technician_id="tec_ben",
            mode="queue",
            portal_type="smart_box",
            customer_name="Carla",
            alert=True,
            assigned_at=datetime.now(UTC),
        )
    )
    await eventually(lambda: _status_is(portal, request_id, token, "assigned"), what="served after closing")


async def _status_is(portal, request_id: str, token: str, expected: str) -> dict | None:
    status = (await portal.http.get(f"/api/portal/requests/{request_id}", headers=bearer(token))).json()
    return status if status["status"] == expected else None


async def test_a_web_customer_is_told_when_the_last_technician_leaves(portal, admin):
    created = await portal.new_portal(admin, mode="web", portal_type="smart_box")
    company = created["company_id"]
    tech = await technician_for(portal, admin, company, "Solo")
    await portal.publish(available(tech, company, "Solo", 1))
    await eventually(lambda: _view_is(portal, created["subdomain"], "form"), what="Solo available")
    submitted = (await portal.submit(created["subdomain"])).json()
    token, request_id = submitted["token"], submitted["request_id"]
    await portal.publish(
        RequestOffered(
            request_id=request_id,
            account_id="acc_acme",
            company_id=company,
            technician_ids=[tech],
            portal_type="smart_box",
            customer_name="Carla",
            expires_at=datetime.now(UTC) + timedelta(minutes=2),
        )
    )
    offered = await eventually(lambda: _status_is(portal, request_id, token, "offered"), what="offered")
    assert offered["nobody_available"] is False
    await portal.publish(unavailable(tech, company, 2))

    async def stranded():
        status = (await portal.http.get(f"/api/portal/requests/{request_id}", headers=bearer(token))).json()
        return status if status["nobody_available"] else None

    status = await eventually(stranded, what="told nobody is left")
    assert "leave us a message" in status["message"] and status["cancellable"]


async def test_a_message_is_mailed_to_the_company_technicians_and_answered_by_email(portal, smtp_sink):
    sink = smtp_sink
    headers = bearer(await portal.login("admin@acme.test"))
    created = await portal.new_portal(headers, mode="web", portal_type="smart_box")
    other = await portal.new_portal(headers, mode="web", portal_type="smart_box")
    email = f"{uuid.uuid4().hex[:8]}@acme.test"
    made = await portal.http.post(
        "/api/portal/technicians",
        json={
            "name": "Mia",
            "email": email,
            "password": "tech-password",
            "company_ids": [created["company_id"]],
        },
        headers=headers,
    )
    outsider_email = f"{uuid.uuid4().hex[:8]}@acme.test"
    await portal.http.post(
        "/api/portal/technicians",
        json={
            "name": "Otto",
            "email": outsider_email,
            "password": "tech-password",
            "company_ids": [other["company_id"]],
        },
        headers=headers,
    )
    url = f"/api/portal/public/portals/{created['subdomain']}/messages"
    invalid = await portal.http.post(url, json={"customer_email": "x"}, headers=portal.client_ip())
    assert {f["field"] for f in invalid.json()["fields"]} == {"customer_name", "customer_email", "text"}
    left = await portal.http.post(
        url,
        json={
            "customer_name": "Nora",
            "customer_email": "nora@example.com",
            "text": "Printer jams.\nPlease call.",
        },
        headers=portal.client_ip(),
    )
    assert left.status_code == 201, left.text
    message_id = left.json()["message_id"]

    alert = await sink.wait_for(lambda m: message_id in str(m["Message-ID"]), timeout=20)
    assert email in str(alert["To"]) and outsider_email not in str(alert["To"])
    assert "Printer jams." in alert.get_content() and str(alert["Reply-To"]) == "nora@example.com"

    mia = bearer(await portal.login(email, "tech-password"))
    otto = bearer(await portal.login(outsider_email, "tech-password"))
    listed = (await portal.http.get("/api/portal/messages", headers=mia)).json()
    assert [m["message_id"] for m in listed["open"]] == [message_id]
    assert (await portal.http.get("/api/portal/messages", headers=otto)).json()["open"] == []
    answer_url = f"/api/portal/messages/{message_id}/answer"
    assert (await portal.http.post(answer_url, json={"text": "Hi"}, headers=otto)).status_code == 404
    assert (await portal.http.post(answer_url, json={"text": " "}, headers=mia)).status_code == 422

    answered = await portal.http.post(answer_url, json={"text": "Try the rear tray."}, headers=mia)
    assert answered.status_code == 200, answered.text
    assert (answered.json()["status"], answered.json()["answered_by"]) == ("answered", "Mia")
    reply = await sink.wait_for(lambda m: f"{message_id}.answer" in str(m["Message-ID"]), timeout=20)
    assert str(reply["To"]) == "nora@example.com" and "Try the rear tray." in reply.get_content()
    again = await portal.http.post(answer_url, json={"text": "Twice"}, headers=mia)
    assert again.status_code == 409

    async def kept():
        found = (await portal.http.get("/api/portal/messages", headers=mia)).json()["answered"]
        return found if found and found[0]["reply_sent"] else None

    kept_list = await eventually(kept, what="answer kept with the message")
    assert kept_list[0]["reply"] == "Try the rear tray." and not made.is_error
    assert len(sink.matching(lambda m: message_id in str(m["Message-ID"]))) == 2  # one each, no repeat


async def test_queue_position_and_estimated_wait_are_pushed_as_the_queue_moves(portal, admin):
    created = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    company = created["company_id"]
    # One chat of 60 s gives the company its recent handling time.
    first = (await portal.submit(created["subdomain"])).json()
    started = datetime.now(UTC) - timedelta(minutes=5)
    common = {"account_id": "acc_acme", "company_id": company, "technician_id": "tec_ben"}
    await portal.publish(
        ChatSessionStarted(session_id="cht_est", request_id=first["request_id"], **common), occurred_at=started
    )
    await eventually(lambda: _status_is(portal, first["request_id"], first["token"], "chat_open"), what="chat")
    await portal.publish(
        ChatSessionEnded(
            session_id="cht_est", request_id=first["request_id"], ended_by="technician", outcome="resolved", **common
        ),
        occurred_at=started + timedelta(seconds=60),
    )
    await eventually(lambda: _status_is(portal, first["request_id"], first["token"], "ended"), what="ended")
    # Its handling time is counted into the company's day as it ends; archiving changes nothing.
    await portal.handlers.housekeeping.archive_finished()

    waiting = [(await portal.submit(created["subdomain"])).json() for _ in range(2)]
    since = datetime.now(UTC)
    for index, request in enumerate(waiting):
        await portal.publish(
            RequestQueued(
                request_id=request["request_id"],
                account_id="acc_acme",
                company_id=company,
                position=index + 1,
                queued_since=since + timedelta(seconds=index),
            )
        )
    second = waiting[1]
    socket = await connect(ws_url(portal.base_url, f"/api/portal/requests/{second['request_id']}/ws"), second["token"])
    async with FrameCollector(socket) as frames:
        ahead = await frames.wait_for(lambda f: f["status"]["position"] == 2)
        assert ahead["status"]["estimated_wait_seconds"] == 120
        await portal.publish(
            RequestAssigned(
                request_id=waiting[0]["request_id"],
                account_id="acc_acme",
                company_id=company,
                technician_id="tec_ben",
                mode="queue",
                portal_type="smart_box",
                customer_name="Carla",
                alert=True,
                assigned_at=datetime.now(UTC),
            )
        )
        nxt = await frames.wait_for(lambda f: f["status"]["position"] == 1)
        assert nxt["status"]["estimated_wait_seconds"] == 60
    # Another request's token is refused.
    refused = await connect(ws_url(portal.base_url, f"/api/portal/requests/{second['request_id']}/ws"), first["token"])
    async with FrameCollector(refused) as frames:
        await frames.wait_closed()
    assert refused.close_code == 1008


async def test_platform_pages_are_styled_and_the_favicon_is_served(portal):
    landing = await portal.http.get("/")
    assert landing.status_code == 200 and 'href="/help"' in landing.text and "portal.css" in landing.text
    missing = await portal.http.get("/p/no-such-portal")
    assert missing.status_code == 404 and 'class="card"' in missing.text and "/p/yourcompany" in missing.text
    icon = await portal.http.get("/favicon.ico")
    assert (
        icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon" and icon.content[:4] == b"\0\0\1\0"
    )
    embedded = await portal.http.get("/p/globex?embed=1")
    assert '<body class="embedded"' in embedded.text
    assert '<link rel="icon" href="/favicon.ico"' in embedded.text
