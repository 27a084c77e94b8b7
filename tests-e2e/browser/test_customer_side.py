"""The customer's side at phone size (issue 16): a closed portal and a message left and
answered, a Web customer stranded by the last technician, every form error at once, a queue
estimate that moves, platform pages, and the chat row on a phone. Each screen passes axe."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from testkit import bearer, eventually
from testkit.a11y import assert_accessible
from testkit.actors import ChatSocket, Customer, HelpCenter, Staff
from testkit.tenants import PASSWORD, provision_tenant, wait_known_to_presence

pytestmark = pytest.mark.e2e

# Reduced motion: the audit reads colours at once, not a quarter-second into a fade-in.
PHONE = {"viewport": {"width": 390, "height": 844}, "reduced_motion": "reduce"}
ALL_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def closed_today() -> dict[str, Any]:
    """Open around the clock except for a closure dated today (UTC): closed now."""
    weekly = {day: [{"opens": "00:00", "closes": "24:00"}] for day in ALL_WEEK}
    return {
        "time_zone": "UTC",
        "weekly": weekly,
        "closures": [{"date": datetime.now(UTC).date().isoformat(), "note": "Inventory day"}],
    }


def email_of(tenant, label: str) -> str:
    return str(tenant.technicians[label]["email"])


async def test_a_closed_portal_takes_a_message_that_is_answered_from_the_help_center(system, ui, shots, smtp_sink):
    tenant = await provision_tenant(
        system.gateway_url,
        "Closedco",
        companies={"desk": {"mode": "queue", "portal_type": "smart_box", "hours": closed_today()}},
        technicians={"Mia": ["desk"]},
        password=PASSWORD,
    )
    subdomain = tenant.portals["desk"]["subdomain"]
    customer = await ui.customer(subdomain, **PHONE)
    await expect(customer.get_by_role("heading", name="We are closed")).to_be_visible()
    await expect(customer.locator(".al-reopen")).to_contain_text("We open again tomorrow at 00:00 (UTC)")
    await expect(customer.locator(".al-reopen")).to_contain_text("Inventory day")
    # Every problem at once, required fields marked.
    form = customer.get_by_role("form", name="Leave a message")
    await expect(form.locator(".al-required")).to_have_count(3)
    await form.get_by_role("button", name="Send message").click()
    for field, text in (
        ("customer_name", "Please enter your name."),
        ("customer_email", "Please enter a valid e-mail address, like name@example.com."),
        ("text", "Please write your message."),
    ):
        await expect(form.locator(f"[data-field={field}] .al-field-error")).to_have_text(text)
    await assert_accessible(customer, what="closed portal, message form with errors, phone")
    await shots.take(customer, "customer-closed-message-form")

    await form.get_by_label("Your name").fill("Nora Night")
    await form.get_by_label("E-mail").fill("nora@example.com")
    await form.get_by_label("Your message").fill("The scanner at reception stopped working.")
    await form.get_by_role("button", name="Send message").click()
    await expect(customer.get_by_role("heading", name="Thank you, your message was sent")).to_be_visible()
    await expect(customer.get_by_text("We will answer by e-mail to nora@example.com.")).to_be_visible()
    await assert_accessible(customer, what="message sent, phone")
    await shots.take(customer, "customer-message-sent")

    alert = await smtp_sink.wait_for(lambda m: "Nora Night" in str(m["Subject"]), timeout=30)
    assert email_of(tenant, "Mia") in str(alert["To"]) and "scanner at reception" in alert.get_content()

    mia = await ui.technician(email_of(tenant, "Mia"), available=None, password=PASSWORD)
    card = mia.locator("#messages-card")
    message = card.locator(".message", has_text="Nora Night")
    await expect(message).to_contain_text("The scanner at reception stopped working.")
    await expect(message).to_contain_text("left while the portal was closed")
    await message.get_by_label("Answer Nora Night by e-mail").fill("Please restart it with the switch at the back.")
    await shots.take(mia, "help-center-offline-message")
    await message.get_by_role("button", name="Send answer").click()
    await expect(card.locator("#messages-open .message")).to_have_count(0)
    await card.get_by_text("Answered recently").click()
    answered = card.locator("#messages-answered .message", has_text="Nora Night")
    await expect(answered).to_contain_text("Please restart it with the switch at the back.")
    await expect(answered).to_contain_text("Answered by Mia")
    reply = await smtp_sink.wait_for(lambda m: str(m["To"]) == "nora@example.com", timeout=30)
    assert "switch at the back" in reply.get_content()
    await assert_accessible(mia, what="help center with the messages card", include="#messages-card")

    # Closed means closed: the API refuses a request too.
    probe = Customer(system.gateway_url, subdomain)
    refused = await probe.submit()
    await probe.close()
    assert refused.status_code == 409 and refused.json()["error"] == "portal_closed"


async def test_a_web_customer_stranded_by_the_last_technician_is_offered_the_message_form(system, ui, shots):
    tenant = await provision_tenant(
        system.gateway_url,
        "Strandco",
        companies={"web": {"mode": "web", "portal_type": "smart_box"}},
        technicians={"Solo": ["web"]},
        password=PASSWORD,
    )
    solo = Staff(system.gateway_url, tenant.technicians["Solo"]["login"], email_of(tenant, "Solo"), PASSWORD)
    await wait_known_to_presence(system.gateway_url, solo.token)
    async with HelpCenter(solo) as desk:
        await desk.set_status("available")
        customer = await ui.customer(tenant.portals["web"]["subdomain"], **PHONE)
        await ui.open_form(customer)
        await customer.get_by_role("button", name="Send request").click()
        # Both problems at once, in plain words.
        await expect(customer.locator("[data-field=customer_name] .al-field-error")).to_have_text(
            "Please enter your name."
        )
        await expect(customer.locator("[data-field=description] .al-field-error")).to_have_text(
            "Please describe your problem."
        )
        await expect(customer.locator(".al-field .al-required")).to_have_count(2)
        await assert_accessible(customer, what="request form with errors, phone")
        await shots.take(customer, "customer-form-all-errors")
        await customer.get_by_label("Your name").fill("Sam Stranded")
        await customer.get_by_label("Describe your problem").fill("VPN refuses my password.")
        await customer.get_by_role("button", name="Send request").click()
        await expect(customer.locator(".al-since")).to_contain_text("Offered to our technicians for")
        await desk.wait_for(lambda f: f["type"] == "alert")
        await desk.set_status("unavailable")
        await expect(customer.locator("#al-status-text")).to_contain_text("No technician is available any more")
        offer = customer.get_by_role("button", name="Leave a message instead")
        await expect(offer).to_be_visible()
        await assert_accessible(customer, what="stranded waiting screen, phone")
        await shots.take(customer, "customer-stranded")
        await offer.click()
        form = customer.get_by_role("form", name="Leave a message")
        await expect(form.get_by_label("Your name")).to_have_value("Sam Stranded")
        await form.get_by_label("E-mail").fill("sam@example.com")
        await form.get_by_label("Your message").fill("Please call me about the VPN.")
        await form.get_by_role("button", name="Send message").click()
        await expect(customer.get_by_role("heading", name="Thank you, your message was sent")).to_be_visible()
        # The request was cancelled first: no technician is offered a request nobody waits on.
        listing = await solo.http.get("/api/portal/messages")
        assert [m["reason"] for m in listing.json()["open"]] == ["no_technician"]
    await solo.close()


async def _end_one_chat(system, subdomain: str, technician: Staff, desk: HelpCenter) -> None:
    """One served and ended chat gives the company a recent handling time."""
    first = Customer(system.gateway_url, subdomain)
    assert (await first.submit()).status_code == 201
    await desk.set_status("available")
    await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == first.request_id, timeout=30)
    accepted = await technician.http.post(f"/api/dispatch/requests/{first.request_id}/accept")
    assert accepted.status_code == 200, accepted.text
    chat = await first.wait_status("chat_open", timeout=30)
    async with ChatSocket(system.gateway_url, chat["session_id"], technician.token) as socket:
        # Set-up, not a check: a chat of a few seconds gives estimates that differ by position.
        await asyncio.sleep(4)
        await socket.send({"type": "end", "outcome": "resolved"})
        await first.wait_status("ended", timeout=30)
    await desk.set_status("unavailable")
    await first.close()


async def test_the_queue_estimate_changes_live_as_the_queue_moves(system, ui, shots):
    tenant = await provision_tenant(
        system.gateway_url,
        "Queueco",
        companies={"line": {"mode": "queue", "portal_type": "smart_box"}},
        technicians={"Quinn": ["line"]},
        password=PASSWORD,
    )
    subdomain = tenant.portals["line"]["subdomain"]
    quinn = Staff(system.gateway_url, tenant.technicians["Quinn"]["login"], email_of(tenant, "Quinn"), PASSWORD)
    await wait_known_to_presence(system.gateway_url, quinn.token)
    async with HelpCenter(quinn) as desk:
        await _end_one_chat(system, subdomain, quinn, desk)
        ahead = Customer(system.gateway_url, subdomain)
        assert (await ahead.submit(customer_name="Ada Ahead")).status_code == 201

        async def estimated() -> dict | None:
            status = await ahead.status()
            return status if status["estimated_wait_seconds"] else None

        # The handling time is counted into the day's figures when the chat ends.
        first_estimate = (await eventually(estimated, timeout=40, what="an estimate for the queue"))[
            "estimated_wait_seconds"
        ]

        customer = await ui.customer(subdomain, **PHONE)
        await ui.open_form(customer)
        await customer.get_by_label("Your name").fill("Bea Behind")
        await customer.get_by_label("Describe your problem").fill("Laptop will not dock.")
        await customer.get_by_role("button", name="Send request").click()
        position = customer.locator(".al-position")
        estimate = customer.locator(".al-estimate")
        await expect(position).to_have_text("Your position in the queue: 2")
        await expect(estimate).to_contain_text("Estimated wait:")
        behind = int(await estimate.get_attribute("data-seconds") or 0)
        assert behind > first_estimate, (behind, first_estimate)  # one more chat ahead of Bea
        await assert_accessible(customer, what="queue waiting screen with an estimate, phone")
        await shots.take(customer, "customer-queue-estimate-2")

        # Ada is served: Bea's screen moves without her doing anything (pushed, not polled).
        await desk.set_status("available")
        await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == ahead.request_id, timeout=30)
        await quinn.http.post(f"/api/dispatch/requests/{ahead.request_id}/accept")
        await expect(position).to_have_text("You are next in the queue.", timeout=40_000)
        await expect(estimate).to_have_attribute("data-seconds", str(first_estimate))
        assert first_estimate < behind
        await shots.take(customer, "customer-queue-estimate-1")
        await ahead.close()
    await quinn.close()


async def test_platform_pages_are_styled_and_every_page_has_a_favicon(ui, shots):
    landing = await ui.page("/", **PHONE)
    await expect(landing.get_by_role("heading", name="Customer-initiated remote support")).to_be_visible()
    await expect(landing.get_by_role("link", name="Help center")).to_have_attribute("href", "/help")
    assert await landing.evaluate("getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)"
    await assert_accessible(landing, what="landing page, phone")
    await shots.take(landing, "landing")
    missing = await ui.page("/p/no-such-portal", **PHONE)
    await expect(missing.get_by_role("heading", name="Support portal not found")).to_be_visible()
    await expect(missing.locator(".card")).to_be_visible()
    await assert_accessible(missing, what="portal not found, phone")
    await shots.take(missing, "portal-not-found")
    for path in ("/favicon.ico",):
        response = await landing.request.get(path)
        assert response.status == 200 and response.headers["content-type"] == "image/x-icon"


async def test_on_a_phone_the_chat_row_leaves_the_text_box_most_of_the_width(system, ui, shots):
    tenant = await provision_tenant(
        system.gateway_url,
        "Chatrow",
        companies={"line": {"mode": "queue", "portal_type": "smart_box"}},
        technicians={"Rae": ["line"]},
        password=PASSWORD,
    )
    customer = await ui.customer(tenant.portals["line"]["subdomain"], **PHONE)
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Pat Phone")
    await customer.get_by_label("Describe your problem").fill("Mail does not sync.")
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.locator(".al-position")).to_be_visible()
    await ui.technician(email_of(tenant, "Rae"), password=PASSWORD)
    await expect(customer.get_by_role("heading", name="Chat with Rae")).to_be_visible(timeout=45_000)
    box = await customer.locator("#al-message").bounding_box()
    send = await customer.locator(".al-composer button").bounding_box()
    assert box and send
    assert send["width"] < 0.3 * (box["width"] + send["width"]), (box, send)
    # The placeholder fits: the text box is wider than the text it shows.
    fits = await customer.locator("#al-message").evaluate(
        "el => { const c = document.createElement('canvas').getContext('2d'); c.font = getComputedStyle(el).font;"
        " return c.measureText(el.placeholder).width < el.clientWidth - 16; }"
    )
    assert fits
    # A message in the log: its items are checked too (a list item outside a list fails).
    await customer.locator("#al-message").fill("Still not syncing.")
    await customer.locator("#al-message").press("Enter")
    log = customer.get_by_role("log", name="Messages")
    await expect(log.get_by_role("listitem").filter(has_text="Still not syncing.")).to_be_visible()
    await assert_accessible(customer, what="customer chat, phone")
    await shots.take(customer, "customer-chat-phone")


async def test_the_admin_sets_business_hours_and_the_portal_closes(system, ui, shots):
    admin_token = await ui.login("admin@acme.test")
    async with httpx.AsyncClient(base_url=system.gateway_url, headers=bearer(admin_token)) as http:
        company = (await http.post("/api/portal/companies", json={"name": f"Hoursco {uuid.uuid4().hex[:4]}"})).json()
        subdomain = f"hours-{uuid.uuid4().hex[:8]}"
        made = await http.post(
            "/api/portal/portals",
            json={
                "company_id": company["company_id"],
                "subdomain": subdomain,
                "mode": "queue",
                "portal_type": "smart_box",
            },
        )
        assert made.status_code == 201, made.text
    admin = await ui.page("/admin", viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    await admin.get_by_label("E-mail", exact=True).fill("admin@acme.test")
    await admin.get_by_label("Password", exact=True).fill("demo-password")
    await admin.get_by_role("button", name="Sign in").click()
    row = admin.locator(f"#portals-table tr[data-subdomain={subdomain}]")
    await row.get_by_role("button", name="Edit").click()
    editor = admin.locator("#portal-editor")
    await editor.get_by_label("Only accept requests during business hours").check()
    await editor.get_by_label("Time zone (IANA, e.g. Europe/Paris)").fill("Mars/Olympus")
    today = datetime.now(UTC).date().isoformat()
    closures = editor.get_by_label("Closed on these dates (one per line: YYYY-MM-DD and an optional note)")
    await closures.fill(f"{today} Moving day")
    await editor.get_by_role("button", name="Save changes").click()
    # portal-svc's verdict on the zone, next to the hours.
    await expect(editor.locator("[data-field=hours] .field-error")).to_contain_text("not an IANA time zone")
    await assert_accessible(admin, what="admin portal editor with business hours", include="#portal-editor")
    await shots.take(admin, "admin-business-hours")
    await editor.get_by_label("Time zone (IANA, e.g. Europe/Paris)").fill("UTC")
    for day in ("Saturday", "Sunday"):
        await editor.get_by_label(f"Open on {day}").check()
    await editor.get_by_role("button", name="Save changes").click()
    await expect(editor).to_be_hidden()
    customer = await ui.customer(subdomain, **PHONE)
    await ui.open_form(customer, heading="We are closed")
    await expect(customer.locator(".al-reopen")).to_contain_text("Moving day")
