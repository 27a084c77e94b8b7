"""The admin creates a portal and copies its code; then SmartMatch, Phone code and an inactive portal.

The tests of this module build on each other (the portal the admin creates is the one the
later tests use), so they run in file order.
"""

import re

import pytest
from playwright.async_api import Page, expect

from testkit.a11y import assert_accessible

pytestmark = pytest.mark.e2e

SUBDOMAIN = "umbrella"


async def admin_console(ui) -> Page:
    page = await ui.page(
        "/admin", viewport={"width": 1280, "height": 860}, permissions=["clipboard-read", "clipboard-write"]
    )
    await page.get_by_label("E-mail", exact=True).fill("admin@acme.test")
    await page.get_by_label("Password", exact=True).fill("demo-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Support portals")).to_be_visible()
    return page


async def test_admin_creates_a_portal_and_copies_its_code(ui, shots):
    admin = await admin_console(ui)
    await expect(admin.locator("#portals-table")).to_contain_text("globex")

    await admin.get_by_role("tab", name="Companies").click()
    await admin.get_by_label("New company name").fill("Umbrella")
    await admin.get_by_role("button", name="Add company").click()
    await expect(admin.locator("#companies")).to_contain_text("Umbrella")

    await admin.get_by_role("tab", name="Portals").click()
    await admin.get_by_role("button", name="Add portal").click()
    editor = admin.locator("#portal-editor")
    await editor.get_by_label("Company").select_option(label="Umbrella")
    # A subdomain already in use is refused, and said so next to the field.
    await editor.get_by_label("Subdomain").fill("globex")
    await editor.get_by_role("button", name="Create portal").click()
    subdomain_error = editor.locator("[data-field=subdomain] .field-error")
    await expect(subdomain_error).to_have_text(re.compile("already in use"))
    await expect(editor.get_by_label("Subdomain")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(admin, what="admin portal editor with an error")
    await shots.take(admin, "admin-subdomain-taken")

    await editor.get_by_label("Subdomain").fill(SUBDOMAIN)
    await editor.get_by_label("Connection mode").select_option("web")
    await editor.get_by_label("Portal type").select_option("smart_match")
    await editor.get_by_role("button", name="Create portal").click()
    row = admin.locator(f"#portals-table tr[data-subdomain={SUBDOMAIN}]")
    await expect(row).to_contain_text("Umbrella")
    await expect(row).to_contain_text("Web · SmartMatch")
    await expect(row).to_contain_text("Active")
    await shots.take(admin, "admin-portals")

    await row.get_by_role("button", name="Show URLs and code").click()
    dialog = admin.locator("#embed-dialog")
    await expect(dialog.get_by_role("textbox", name="Stand-alone URL")).to_have_value(re.compile(f"/p/{SUBDOMAIN}$"))
    await dialog.get_by_role("button", name="Copy embedded chat window").click()
    await expect(dialog.locator("[data-snippet='Embedded chat window'] .copy-status")).to_have_text("Copied")
    copied = await admin.evaluate("navigator.clipboard.readText()")
    assert f'data-portal="{SUBDOMAIN}"' in copied and "/api/portal/embed.js" in copied
    await dialog.get_by_role("button", name="Copy pop-up window").click()
    assert "window.open" in await admin.evaluate("navigator.clipboard.readText()")
    await assert_accessible(admin, what="admin URLs and code dialog")
    await shots.take(admin, "admin-urls-and-code", full_page=False)
    await dialog.get_by_role("button", name="Close").click()

    # Ben gets access to Umbrella.
    await admin.get_by_role("tab", name="Technicians").click()
    ben = admin.locator("#technicians li[data-email='ben@acme.test']")
    await ben.get_by_role("button", name="Edit Ben's access").click()
    drawer = admin.get_by_role("dialog", name="Ben's access")
    await drawer.get_by_role("searchbox").fill("umbr")
    await drawer.get_by_label("Umbrella").check()
    await drawer.get_by_role("button", name="Save access").click()
    await expect(drawer).to_have_count(0)
    await expect(ben.locator(".tech-head")).to_contain_text("Umbrella")
    await shots.take(admin, "admin-technicians")


async def test_smartmatch_customer_picks_an_available_technician(ui, shots):
    ben = await ui.technician("ben@acme.test")
    customer = await ui.customer(SUBDOMAIN, viewport={"width": 430, "height": 900})
    await ui.open_form(customer)
    choices = customer.get_by_role("group", name="Choose a technician")
    await expect(choices.get_by_label("Ben")).to_be_visible()

    await customer.get_by_label("Your name").fill("Eve Customer")
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.locator("[data-field=chosen_technician_id] .al-field-error")).to_contain_text("choose")
    await shots.take(customer, "customer-form-smartmatch")

    await choices.get_by_label("Ben").check()
    await customer.get_by_label("Describe your problem").fill("VPN drops every hour.")
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.get_by_role("heading", name="Your request")).to_be_visible()

    alert = ben.locator(".alert", has_text="Eve Customer")
    await expect(alert).to_be_visible()
    await alert.get_by_role("button", name="Accept").click()
    await expect(customer.get_by_role("heading", name="Chat with Ben")).to_be_visible()
    chat = ben.locator(".chat", has_text="Eve Customer")
    await chat.get_by_role("textbox").fill("Hi Eve, Ben here.")
    await chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="Hi Eve, Ben here.")).to_be_visible()

    # The customer leaves; the technician's panel says so.
    customer.once("dialog", lambda dialog: dialog.accept())
    await customer.get_by_role("button", name="Leave the chat").click()
    await expect(customer.get_by_role("heading", name="Your support session has ended")).to_be_visible()
    await expect(chat).to_contain_text("The customer left the chat.")


async def test_phone_code_connects_the_customer_to_that_technician(ui, shots):
    admin = await admin_console(ui)
    row = admin.locator(f"#portals-table tr[data-subdomain={SUBDOMAIN}]")
    await row.get_by_role("button", name="Edit").click()
    editor = admin.locator("#portal-editor")
    await editor.get_by_label("Connection mode").select_option("phone")
    await expect(editor.get_by_label("Portal type")).to_have_value("smart_pin")
    await editor.get_by_role("button", name="Save changes").click()
    await expect(row).to_contain_text("Phone · SmartPin")

    ben = await ui.technician("ben@acme.test", available=None)
    codes = ben.locator("#codes-card")
    # Ben serves Globex (Web) and the new company (Phone): codes are offered for the Phone one
    # only, so there is nothing to choose.
    await expect(codes.get_by_role("button", name="Generate code")).to_be_visible()
    companies = await codes.locator("#code-company option").evaluate_all("options => options.map(o => o.value)")
    assert len(companies) == 1 and "cmp_globex" not in companies
    await expect(codes.get_by_label("Company")).to_be_hidden()
    await codes.get_by_role("button", name="Generate code").click()
    code_text = codes.locator(".code").first
    await expect(code_text).to_have_text(re.compile(r"^\d{3} \d{3} \d{3}$"))
    await expect(codes.locator("[data-expires]").first).to_contain_text("expires in")
    code = (await code_text.inner_text()).replace(" ", "")
    await shots.take(ben, "help-center-connection-code")

    customer = await ui.customer(SUBDOMAIN, viewport={"width": 390, "height": 844})
    await ui.open_form(customer, heading="Connect to your technician")
    await customer.get_by_label("Your name").fill("Frank Customer")
    await customer.get_by_label("Connection code").fill("12345")
    await customer.get_by_role("button", name="Connect").click()
    await expect(customer.locator("[data-field=connection_code] .al-field-error")).to_contain_text(
        re.compile(r"9.digit")
    )
    await shots.take(customer, "customer-code-entry")

    await customer.get_by_label("Connection code").fill(f"{code[:3]} {code[3:6]} {code[6:]}")
    await customer.get_by_role("button", name="Connect").click()
    await expect(customer.get_by_role("heading", name="Chat with Ben")).to_be_visible()
    await expect(ben.locator(".chat", has_text="Frank Customer")).to_be_visible()
    # Single use: the code is gone from the technician's list.
    await expect(codes.locator(".code", has_text=code[:3])).to_have_count(0, timeout=30_000)

    chat = ben.locator(".chat", has_text="Frank Customer")
    await chat.get_by_role("button", name="End session").click()
    await chat.get_by_label("Unresolved", exact=True).check()
    await chat.locator(".end-form").get_by_role("button", name="End session").click()
    await expect(customer.get_by_role("heading", name="Your support session has ended")).to_be_visible()


async def test_inactive_portal_says_service_unavailable(ui, shots):
    admin = await admin_console(ui)
    row = admin.locator(f"#portals-table tr[data-subdomain={SUBDOMAIN}]")
    await row.get_by_role("button", name="Deactivate").click()
    await admin.get_by_role("dialog").get_by_role("button", name=f"Deactivate {SUBDOMAIN}").click()
    await expect(row).to_contain_text("Inactive")

    customer = await ui.customer(SUBDOMAIN)
    await expect(customer.get_by_role("heading", name="Service unavailable")).to_be_visible()
    await expect(customer.locator(".al-portal")).to_contain_text("we apologise for this temporary inconvenience")
    await shots.take(customer, "customer-service-unavailable")
