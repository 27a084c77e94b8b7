"""The live supervisor dashboard (issue 16, feature 6) at desktop size: an admin watches a
company while a customer is served and rates the chat — the tiles and the satisfaction
figure change without a reload; a supervisor added in the admin console sees the same
dashboard but is refused by the console; each screen passes axe. And the customer's "leave a
message" form offered after the portal's maximum wait (feature 2) at phone size."""

import re
import shutil
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from testkit import bearer, eventually
from testkit.a11y import assert_accessible
from testkit.tenants import PASSWORD, provision_tenant

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "reduced_motion": "reduce"}
PHONE = {"viewport": {"width": 390, "height": 844}, "reduced_motion": "reduce"}
README_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"


def tile(page: Page, key: str):
    return page.locator(f"[data-tile={key}] .value")


def figure(page: Page, key: str, span: str = "today"):
    return page.locator(f"#figures [data-figure={key}] [data-span={span}]")


async def sign_in(page: Page, email: str) -> None:
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_the_dashboard_follows_a_served_and_rated_chat_live(system, ui, shots):
    tenant = await provision_tenant(
        system.gateway_url,
        "Dashco",
        companies={"desk": {"mode": "queue", "portal_type": "smart_box"}},
        technicians={"Dana": ["desk"]},
        password=PASSWORD,
    )
    company_id = tenant.companies["desk"]
    dashboard = await (await ui.context(**DESKTOP)).new_page()
    # The page's sockets pass through the test, which can drop one as a network would.
    sockets: list[WebSocketRoute] = []

    def through(route: WebSocketRoute) -> None:
        route.connect_to_server()
        sockets.append(route)

    await dashboard.route_web_socket(re.compile(r"/api/portal/dashboard/ws\?"), through)
    await dashboard.goto("/dashboard")
    await sign_in(dashboard, tenant.admin_email)
    await expect(dashboard.locator("#connection")).to_have_text("Live")
    await expect(dashboard.locator("#company-title")).to_contain_text("Dashco desk")
    await expect(tile(dashboard, "waiting")).to_have_text("0")
    await expect(figure(dashboard, "satisfaction")).to_have_text("—")
    # Nothing below may come from a reload: this mark would be gone.
    await dashboard.evaluate("window.__notReloaded = true")

    # The socket drops: the page reconnects by itself, and goes on being pushed.
    await sockets[0].close(code=1011, reason="dropped by the test")
    await eventually(lambda: len(sockets) == 2, what="the page reconnected its socket")
    await expect(dashboard.locator("#connection")).to_have_text("Live")
    dana = await ui.technician(str(tenant.technicians["Dana"]["email"]), password=PASSWORD)
    await expect(tile(dashboard, "available")).to_have_text("1")

    customer = await ui.customer(tenant.portals["desk"]["subdomain"], **PHONE)
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Dora Dash")
    await customer.get_by_label("Describe your problem").fill("The label printer prints blank labels.")
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.get_by_role("heading", name="Chat with Dana")).to_be_visible(timeout=45_000)
    await expect(tile(dashboard, "chats")).to_have_text("1")
    await expect(figure(dashboard, "requests")).to_have_text("1")
    await expect(figure(dashboard, "median_wait")).not_to_have_text("—")

    chat = dana.locator(".chat", has_text="Dora Dash")
    await chat.get_by_role("button", name="End session").click()
    await chat.get_by_label("Resolved", exact=True).check()
    await chat.locator(".end-form").get_by_role("button", name="End session").click()
    await expect(customer.get_by_role("heading", name="Your support session has ended")).to_be_visible()
    stars = customer.get_by_role("group", name="Your rating (required)")
    await stars.get_by_role("radio", name="1 star out of 5").focus()
    for _ in range(4):
        await customer.keyboard.press("ArrowRight")
    await expect(stars.get_by_role("radio", name="5 stars out of 5")).to_be_checked()
    await customer.get_by_role("button", name="Send my rating").click()
    await expect(customer.locator(".al-rating").get_by_role("status")).to_contain_text("Thank you")

    await expect(tile(dashboard, "chats")).to_have_text("0")
    await expect(figure(dashboard, "satisfaction")).to_have_text("5.0 / 5 (1 rating)")
    await expect(figure(dashboard, "median_handling")).not_to_have_text("—")
    await expect(figure(dashboard, "satisfaction", "week")).to_have_text("5.0 / 5 (1 rating)")
    assert await dashboard.evaluate("window.__notReloaded === true")
    # The charts were drawn by the vendored library, from the project's own origin.
    assert await dashboard.evaluate("typeof window.Chart === 'function' && !!window.Chart.getChart('requests-chart')")
    await assert_accessible(dashboard, what="dashboard, desktop")
    path = await shots.take(dashboard, "dashboard-desktop")
    README_SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, README_SHOT)

    # The CSV export downloads today's row with the rating.
    async with dashboard.expect_download() as download_info:
        await dashboard.get_by_role("button", name="Export CSV (7 days)").click()
    download = await download_info.value
    rows = Path(await download.path()).read_text().splitlines()
    assert rows[0].startswith("day,requests") and rows[-1].split(",")[-2:] == ["1", "5.0"]

    # The admin adds a supervisor in the admin console.
    console = await dashboard.context.new_page()
    await console.goto("/admin")
    await sign_in(console, tenant.admin_email)
    await expect(console.get_by_role("link", name="Live dashboard")).to_have_attribute("href", "../dashboard/")
    await console.get_by_role("tab", name="Supervisors").click()
    await console.get_by_text("Add a supervisor").click()
    email = f"sam-{uuid.uuid4().hex[:6]}@dashco.test"
    form = console.locator("#supervisor-form")
    await form.get_by_label("Name").fill("Sam Supervisor")
    await form.get_by_label("E-mail").fill(email)
    await form.get_by_label("Initial password").fill(PASSWORD)
    await form.get_by_role("button", name="Add supervisor").click()
    await expect(console.locator("#supervisors")).to_contain_text("Sam Supervisor")
    await assert_accessible(console, what="admin console, supervisors")

    # The supervisor sees the same dashboard, live.
    supervisor = await ui.page("/dashboard", **DESKTOP)
    await sign_in(supervisor, email)
    await expect(supervisor.locator("#connection")).to_have_text("Live")
    await expect(figure(supervisor, "satisfaction")).to_have_text("5.0 / 5 (1 rating)")
    await expect(supervisor.locator("#admin-link")).to_be_hidden()
    await assert_accessible(supervisor, what="dashboard, supervisor")
    # ... and nothing else: the admin console refuses them, and so does the API.
    refused = await supervisor.context.new_page()
    await refused.goto("/admin")
    await sign_in(refused, email)
    await expect(refused.locator("#signin-error")).to_contain_text("The admin console is for admins")
    token = await supervisor.evaluate("JSON.parse(sessionStorage.getItem('assistline:dashboard')).token")
    companies = await supervisor.request.get("/api/portal/companies", headers=bearer(token))
    assert companies.status == 403 and (await companies.json())["message"]
    sessions = await supervisor.request.get(f"/api/chat/sessions?company_id={company_id}", headers=bearer(token))
    assert sessions.status == 403


async def test_a_long_wait_offers_the_message_form(system, ui, shots):
    tenant = await provision_tenant(
        system.gateway_url,
        "Slowco",
        companies={"desk": {"mode": "web", "portal_type": "smart_box", "max_wait_seconds": 30}},
        technicians={"Lou": ["desk"]},
        password=PASSWORD,
    )
    # Available, so the form is offered, but Lou never accepts: the customer keeps waiting.
    await ui.technician(str(tenant.technicians["Lou"]["email"]), password=PASSWORD)
    customer = await ui.customer(tenant.portals["desk"]["subdomain"], **PHONE)
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Wendy Wait")
    await customer.get_by_label("Describe your problem").fill("Nobody answers the shared mailbox.")
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.get_by_text("Offered to our technicians for")).to_be_visible()
    offer = customer.get_by_role("button", name="Leave a message instead")
    await expect(customer.get_by_text("Taking longer than expected?")).to_be_visible(timeout=60_000)
    await assert_accessible(customer, what="long wait, message offered, phone")
    await offer.click()
    form = customer.get_by_role("form", name="Leave a message")
    await expect(form).to_be_visible()
    await form.get_by_label("Your name").fill("Wendy Wait")
    await form.get_by_label("E-mail").fill("wendy@example.com")
    await form.get_by_label("Your message").fill("Please call me back about the shared mailbox.")
    await shots.take(customer, "customer-long-wait-message")
    await form.get_by_role("button", name="Send message").click()
    await expect(customer.get_by_role("heading", name="Thank you, your message was sent")).to_be_visible()
    await assert_accessible(customer, what="message sent after a long wait, phone")

    lou = tenant.technicians["Lou"]["token"]
    listed = await customer.request.get("/api/portal/messages", headers=bearer(lou))
    messages = (await listed.json())["open"]
    left = next(m for m in messages if m["customer_name"] == "Wendy Wait")
    assert (left["reason"], left["customer_email"]) == ("long_wait", "wendy@example.com")
