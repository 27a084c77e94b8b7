"""Canned replies in the browser: the admin adds a team reply in the console, the technician
adds their own in the help center, then types "/" in a chat: a filtered list opens, arrow keys
and Enter insert the reply with the customer's and technician's names filled in, Escape closes
it — at 1280×800 and 390×844, each screen audited by axe-core and kept as a screenshot."""

import pytest
from playwright.async_api import Page, expect

from testkit import provision_tenant, wait_known_to_presence
from testkit.a11y import assert_accessible, screenshot

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def sign_in(ui, path: str, email: str, password: str, viewport: dict) -> Page:
    page = await ui.page(path, viewport=viewport)
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    return page


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_shortcut_picker_inserts_team_and_personal_replies_with_names_filled(system, ui, viewport):
    tenant = await provision_tenant(
        system.gateway_url,
        "Canned Replies",
        companies={"web0": {"mode": "web", "portal_type": "smart_box"}},
        technicians={"Ana": ["web0"]},
    )
    ana = tenant.technicians["Ana"]
    await wait_known_to_presence(system.gateway_url, ana["token"])
    size = "desktop" if viewport is DESKTOP else "phone"

    # The admin adds a team reply; a bad shortcut is explained in a sentence first.
    admin = await sign_in(ui, "/admin", tenant.admin_email, tenant.password, viewport)
    await admin.get_by_role("tab", name="Roster").click()
    team = admin.get_by_role("region", name="Team canned replies")
    await team.get_by_text("Add a canned reply").click()
    await team.get_by_label("Title").fill("Thanks")
    await team.get_by_label("Shortcut").fill("/no spaces")
    await team.get_by_label("Text").fill("Thanks {customer_name}, {technician_name} is on it.")
    await team.get_by_role("button", name="Add reply").click()
    await expect(team.get_by_role("alert")).to_contain_text("a shortcut is / followed by")
    await team.get_by_label("Shortcut").fill("/thanks")
    await team.get_by_role("button", name="Add reply").click()
    await expect(team.locator(".canned-item")).to_contain_text("/thanks")
    await assert_accessible(admin, what=f"admin console, team canned replies, {size}")
    await screenshot(admin, f"canned-replies-admin-{size}")

    # Ana adds her own in the help center.
    desk = await sign_in(ui, "/help", ana["email"], tenant.password, viewport)
    await expect(desk.locator("#connection")).to_contain_text("Connected")
    await desk.locator("#status-select").select_option("available")
    mine = desk.locator("#canned-card")
    await mine.get_by_text("Add a canned reply").click()
    await mine.get_by_label("Title").fill("Restart")
    await mine.get_by_label("Shortcut").fill("/restart")
    await mine.get_by_label("Text").fill("Please restart your computer, {customer_name}.")
    await mine.get_by_role("button", name="Add reply").click()
    await expect(mine.locator(".canned-item")).to_contain_text("/restart")

    customer = await ui.customer(tenant.portals["web0"]["subdomain"], viewport=PHONE)
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Carla Customer")
    await customer.get_by_label("Describe your problem").fill("Outlook keeps asking for a password")
    await customer.get_by_role("button", name="Send request").click()
    await desk.locator(".alert", has_text="Carla Customer").get_by_role("button", name="Accept").click()
    chat = desk.locator(".chat", has_text="Carla Customer")
    box = chat.get_by_role("textbox", name="Message to Carla Customer")
    await expect(box).to_be_visible()

    # "/" lists both; typing filters; Escape closes without touching the text.
    await box.fill("")
    await box.press_sequentially("/")
    picker = chat.get_by_role("listbox", name="Canned replies")
    await expect(picker.get_by_role("option")).to_have_count(2)
    await box.press_sequentially("th")  # a shortcut's start or a word of a title
    await expect(picker.get_by_role("option")).to_have_count(1)
    await expect(picker.get_by_role("option")).to_contain_text("/thanks")
    await assert_accessible(desk, what=f"help center, canned reply picker open, {size}")
    await screenshot(desk, f"canned-replies-picker-{size}")
    await box.press("Escape")
    await expect(picker).to_be_hidden()
    await expect(box).to_have_value("/th")

    # Arrow keys + Enter insert the chosen reply with the names filled; nothing was sent yet.
    await box.fill("")
    await box.press_sequentially("/")
    await expect(picker.get_by_role("option")).to_have_count(2)
    await box.press("ArrowDown")
    await expect(picker.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    second = await picker.get_by_role("option").nth(1).inner_text()
    await box.press("Enter")
    await expect(picker).to_be_hidden()
    expected = (
        "Thanks Carla Customer, Ana is on it."
        if "/thanks" in second
        else "Please restart your computer, Carla Customer."
    )
    await expect(box).to_have_value(expected)
    await box.press("Enter")  # now it sends
    await expect(customer.locator("body")).to_contain_text(expected)
    await expect(box).to_have_value("")
