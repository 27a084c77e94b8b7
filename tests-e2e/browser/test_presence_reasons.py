"""Trustworthy presence in the browser: a technician who lets three offers lapse is set
unavailable with the reason "missed requests", told so, and must choose Available again; the
admin's Roster tab shows state, reason, since and chats open, and the status history — at
1280×800 and 390×844, each screen audited by axe-core and kept as a screenshot.

The lapses are real: dispatch-svc offers the request again every OFFER_TIMEOUT_SECONDS
(30 s in the system), so the streak takes about a minute and a half to build."""

import pytest
from playwright.async_api import Page, expect

from testkit import provision_tenant, wait_known_to_presence
from testkit.a11y import assert_accessible, screenshot

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Three offer lapses (30 s each) plus the sweeper's period and the hops between services.
STREAK_TIMEOUT_MS = 180_000


async def sign_in(ui, path: str, email: str, password: str) -> Page:
    page = await ui.page(path, viewport=DESKTOP)
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    return page


async def test_missed_requests_set_the_technician_unavailable_until_they_choose_available_again(system, ui):
    tenant = await provision_tenant(
        system.gateway_url,
        "Presence Reasons",
        companies={"web0": {"mode": "web", "portal_type": "smart_box"}},
        technicians={"Ana": ["web0"]},
    )
    ana = tenant.technicians["Ana"]
    await wait_known_to_presence(system.gateway_url, ana["token"])

    help_center = await sign_in(ui, "/help", ana["email"], tenant.password)
    await expect(help_center.locator("#connection")).to_contain_text("Connected")
    await help_center.locator("#status-select").select_option("available")
    reason = help_center.locator("#status-reason")
    await expect(reason).to_contain_text("Available")

    customer = await ui.customer(tenant.portals["web0"]["subdomain"], viewport=PHONE)
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Carla Customer")
    await customer.get_by_label("Describe your problem").fill("The VPN drops every hour")
    await customer.get_by_role("button", name="Send request").click()
    await expect(help_center.locator("#alerts")).to_contain_text("Carla Customer")

    # Ana answers nothing: after the third lapse she is stopped, told why, and asked to choose.
    notice = help_center.locator("#missed-notice")
    await expect(notice).to_be_visible(timeout=STREAK_TIMEOUT_MS)
    await expect(notice).to_contain_text("in a row went unanswered")
    await expect(reason).to_contain_text("Unavailable: missed requests")
    await expect(help_center.locator("#status-select")).to_have_value("unavailable")
    await assert_accessible(help_center, what="help center, set unavailable after missed requests")
    await screenshot(help_center, "presence-missed-requests-desktop")
    await help_center.set_viewport_size(PHONE)
    await expect(notice.get_by_role("button", name="Choose Available again")).to_be_in_viewport()
    await assert_accessible(help_center, what="help center on a phone, missed requests")
    await screenshot(help_center, "presence-missed-requests-phone")

    # The admin sees it on the roster, with the history saying the system did it.
    admin = await sign_in(ui, "/admin", tenant.admin_email, tenant.password)
    await admin.get_by_role("tab", name="Roster").click()
    row = admin.locator("#section-roster tr", has_text="Ana")
    await expect(row).to_contain_text("Missed requests")
    await expect(row.locator('[data-label="Since"]')).not_to_have_text("—")
    await row.get_by_role("button", name="History of Ana").click()
    drawer = admin.get_by_role("dialog", name="Status history of Ana")
    await expect(drawer.locator("li").first).to_contain_text("Unavailable — Missed requests")
    await expect(drawer.locator("li").first).to_contain_text("by the system")
    await expect(drawer).to_contain_text("by the technician")  # her own choice of Available before
    await assert_accessible(admin, what="admin roster, status history drawer")
    await screenshot(admin, "presence-roster-history-desktop", full_page=False)
    await drawer.get_by_role("button", name="Close").click()
    await admin.set_viewport_size(PHONE)
    await expect(row.locator('[data-label="Reason"]')).to_be_in_viewport()  # cards, nothing off-screen
    await assert_accessible(admin, what="admin roster on a phone")
    await screenshot(admin, "presence-roster-phone")

    # She chooses Available again: the notice goes, the reason says Available, the roster follows.
    await notice.get_by_role("button", name="Choose Available again").click()
    await expect(notice).to_be_hidden()
    await expect(reason).to_contain_text("Available since")
    await expect(help_center.locator("#status-select")).to_have_value("available")
    await expect(row).to_contain_text("Available", timeout=15_000)
    await expect(row).not_to_contain_text("Missed requests")
