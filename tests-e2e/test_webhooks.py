"""Webhooks end to end: a receiver of the account gets signed CloudEvents for a full Web, Phone
and Queue scenario — verified with an independent Standard Webhooks implementation — keeps
getting them after being down for a while (none lost, in order per request), and a receiver
of another account gets nothing of them."""

import re
import uuid
from typing import Any

import pytest

from testkit import client, eventually, portals_per_mode, provision_tenant, wait_known_to_presence
from testkit.actors import Customer, HelpCenter, Staff
from testkit.amqp import AmqpTap
from testkit.tenants import PASSWORD
from testkit.webhooks import WebhookReceiver

pytestmark = pytest.mark.e2e

EVENT_TYPES = [
    "RequestSubmitted",
    "RequestOffered",
    "RequestOfferWithdrawn",
    "RequestQueued",
    "RequestAssigned",
    "RequestRejected",
    "RequestCancelled",
    "ChatSessionStarted",
    "ChatSessionEnded",
]


async def register(gateway: str, admin_token: str, receiver: WebhookReceiver) -> tuple[str, str]:
    async with client(gateway, token=admin_token) as http:
        response = await http.post(
            "/api/webhook/endpoints",
            json={"url": receiver.url, "event_types": EVENT_TYPES, "description": "e2e receiver"},
        )
    assert response.status_code == 201, response.text
    return response.json()["endpoint"]["endpoint_id"], response.json()["secret"]


async def delivery_log(gateway: str, admin_token: str, endpoint_id: str) -> list[dict[str, Any]]:
    async with client(gateway, token=admin_token) as http:
        response = await http.get(f"/api/webhook/endpoints/{endpoint_id}/deliveries", params={"limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


async def chat_and_end(customer: Customer, technician: Staff) -> None:
    session_id = (await customer.wait_status("chat_open"))["session_id"]
    ended = await technician.http.post(f"/api/chat/sessions/{session_id}/end", json={"outcome": "resolved"})
    assert ended.status_code == 200, ended.text
    await customer.wait_status("ended")


async def test_signed_cloudevents_for_every_mode_survive_a_receiver_outage_and_stay_in_their_account(system):
    gateway = system.gateway_url
    tenant = await provision_tenant(
        gateway, "Hooks", companies=portals_per_mode({"web": 1, "queue": 1, "phone": 1}), technicians=1
    )
    other = await provision_tenant(gateway, "Elsewhere", companies=portals_per_mode({"queue": 1}), technicians=0)
    technician = tenant.technicians["tec0"]
    await wait_known_to_presence(gateway, technician["token"])
    staff = await Staff.sign_in(gateway, technician["email"], PASSWORD)
    receiver, foreign = WebhookReceiver(), WebhookReceiver()
    await receiver.start()
    await foreign.start()
    endpoint_id, secret = await register(gateway, tenant.admin_token, receiver)
    _, foreign_secret = await register(gateway, other.admin_token, foreign)
    customers = {mode: Customer(gateway, tenant.portals_of_mode(mode)[0][0]) for mode in ("web", "queue", "phone")}
    try:
        async with (
            AmqpTap(system.backends.rabbitmq_url, "request.#", "chat.#") as bus,
            HelpCenter(staff) as desk,
        ):
            await desk.set_status("available")

            # Web, receiver up: offered, accepted, chatted, ended.
            web = customers["web"]
            await eventually(lambda: _view_is(web, "form"), what="the Web portal takes requests")
            assert (await web.submit()).status_code == 201
            await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == web.request_id)
            assert (await staff.http.post(f"/api/dispatch/requests/{web.request_id}/accept")).status_code == 200
            await chat_and_end(web, staff)
            await eventually(
                lambda: any(e["type"].endswith("ChatSessionEnded.v1") for e in receiver.of_subject(web.request_id)),
                timeout=30,
                what="the Web chat's end delivered",
            )

            # The receiver goes down; Queue and Phone run meanwhile.
            await receiver.stop()
            queue = customers["queue"]
            assert (await queue.submit()).status_code == 201
            await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == queue.request_id)
            assert (await staff.http.post(f"/api/dispatch/requests/{queue.request_id}/accept")).status_code == 200
            await chat_and_end(queue, staff)

            phone = customers["phone"]
            company_id = tenant.portals_of_mode("phone")[0][1]
            issued = await staff.http.post("/api/dispatch/codes", json={"company_id": company_id})
            assert issued.status_code == 201, issued.text
            assert (await phone.submit(connection_code=issued.json()["code"])).status_code == 201
            await chat_and_end(phone, staff)
            await desk.set_status("unavailable")

            async def retried() -> bool:
                rows = await delivery_log(gateway, tenant.admin_token, endpoint_id)
                return any(r["attempts"] >= 2 and r["status"] == "pending" for r in rows)

            await eventually(retried, timeout=30, what="deliveries retried while the receiver is down")
            await receiver.start()

            requests = [web.request_id, queue.request_id, phone.request_id]

            def published() -> dict[str, list[dict[str, Any]]]:
                return {r: [m for m in bus.messages if m["data"].get("request_id") == r] for r in requests}

            async def all_arrived() -> bool:
                expected = {m["event_id"] for ms in published().values() for m in ms if m["type"] in EVENT_TYPES}
                return bool(expected) and expected <= {e["id"] for e in receiver.events()}

            await eventually(all_arrived, timeout=60, what="every event of the three requests delivered")

            # Another account's own event reaches its receiver: the barrier before "nothing else did".
            stranger = Customer(gateway, other.portals_of_mode("queue")[0][0])
            assert (await stranger.submit()).status_code == 201
            await eventually(
                lambda: foreign.of_subject(stranger.request_id), timeout=30, what="the other account's delivery"
            )
            await stranger.close()
    finally:
        for customer in customers.values():
            await customer.close()
        await staff.close()
        await receiver.stop()
        await foreign.stop()

    # Every delivery verifies with the endpoint's secret (standardwebhooks, an independent implementation).
    verified = [delivery.verified(secret) for delivery in receiver.received]
    assert all(e["specversion"] == "1.0" and e["data"]["data"]["account_id"] == tenant.account_id for e in verified)
    on_bus = published()
    for request_id in requests:
        arrived = list({e["id"]: e for e in verified if e["subject"] == request_id}.values())
        expected = sorted((m for m in on_bus[request_id] if m["type"] in EVENT_TYPES), key=lambda m: m["occurred_at"])
        # None lost, none invented, and in the order they happened (first arrivals: at least once).
        assert [e["id"] for e in arrived] == [m["event_id"] for m in expected], request_id
        types = [e["type"].removeprefix("com.assistline.").removesuffix(".v1") for e in arrived]
        for needed in ("RequestSubmitted", "RequestAssigned", "ChatSessionStarted", "ChatSessionEnded"):
            assert needed in types, (request_id, types)
    assert "RequestOffered" in _types(verified, web.request_id)
    assert "RequestQueued" in _types(verified, queue.request_id) or "RequestAssigned" in _types(
        verified, queue.request_id
    )
    rows = await delivery_log(gateway, tenant.admin_token, endpoint_id)
    assert any(h["status_code"] is None for r in rows for h in r["history"]), "some tries met the receiver down"

    foreign_events = [delivery.verified(foreign_secret) for delivery in foreign.received]
    assert {e["data"]["data"]["account_id"] for e in foreign_events} == {other.account_id}
    assert not {e["subject"] for e in foreign_events} & set(requests)


def _types(events: list[dict[str, Any]], request_id: str) -> list[str]:
    return [e["type"].removeprefix("com.assistline.").removesuffix(".v1") for e in events if e["subject"] == request_id]


async def _view_is(customer: Customer, view: str) -> bool:
    return (await customer.view())["view"] == view


CHROMIUM = "/usr/bin/chromium"


async def test_the_admin_console_registers_an_endpoint_shows_its_log_and_sends_again(system):
    """The Webhooks tab: create (secret shown once), deliveries with response codes, send again."""
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright, expect

    from testkit.a11y import screenshot

    gateway = system.gateway_url
    email = f"console-{uuid.uuid4().hex[:8]}@console.test"
    async with client(gateway) as http:
        signup = {
            "account_name": "Console",
            "admin_name": "Console Admin",
            "admin_email": email,
            "admin_password": PASSWORD,
        }
        assert (await http.post("/api/portal/accounts", json=signup)).status_code == 201
        login = await http.post("/api/portal/auth/login", json={"email": email, "password": PASSWORD})
        admin = {"Authorization": f"Bearer {login.json()['token']}"}
        company = await http.post("/api/portal/companies", json={"name": "Console Co"}, headers=admin)
        subdomain = f"console-{uuid.uuid4().hex[:8]}"
        portal = await http.post(
            "/api/portal/portals",
            json={
                "company_id": company.json()["company_id"],
                "subdomain": subdomain,
                "mode": "queue",
                "portal_type": "smart_box",
            },
            headers=admin,
        )
        assert portal.status_code == 201, portal.text
    async with WebhookReceiver() as receiver, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = await (
                await browser.new_context(base_url=gateway, viewport={"width": 1440, "height": 900})
            ).new_page()
            await page.goto("/admin")
            await page.get_by_label("E-mail", exact=True).fill(email)
            await page.get_by_label("Password", exact=True).fill(PASSWORD)
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_role("tab", name="Webhooks").click()
            await page.get_by_role("button", name="Add endpoint").click()
            await page.get_by_label("URL (https://)").fill(receiver.url)
            await page.get_by_label("Description").fill("CRM")
            await page.get_by_role("button", name="Register endpoint").click()
            secret_field = page.get_by_label("Signing secret")
            await expect(secret_field).to_have_value(re.compile(r"^whsec_"))
            secret = await secret_field.input_value()
            await page.get_by_role("button", name="Done").click()
            await expect(page.get_by_role("table", name="Webhook endpoints")).to_contain_text(receiver.url)

            customer = Customer(gateway, subdomain)
            assert (await customer.submit()).status_code == 201
            await customer.close()
            await eventually(lambda: len(receiver.received) >= 2, timeout=30, what="submitted and queued delivered")
            assert {r.verified(secret)["subject"] for r in receiver.received} == {customer.request_id}

            await page.get_by_role("button", name="Deliveries").click()
            log = page.get_by_role("table", name="Deliveries")
            await expect(log).to_contain_text("RequestQueued")
            await expect(log).to_contain_text("200")
            await screenshot(page, "admin-webhooks")
            await log.get_by_role("button", name="Send again").first.click()
            await expect(page.locator("#toasts")).to_contain_text("Queued to be sent again.")
            await eventually(lambda: len(receiver.received) >= 3, timeout=30, what="the delivery sent again")
            again = receiver.received[-1]
            assert again.headers["webhook-id"] in {r.headers["webhook-id"] for r in receiver.received[:2]}
            again.verified(secret)
        finally:
            await browser.close()
