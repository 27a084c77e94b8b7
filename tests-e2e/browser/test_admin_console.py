"""The admin console for real accounts: search and pages, rename and delete (confirmed),
errors as sentences next to their fields, the access drawer, phone-size cards, the tab bar in
reach, and access changes that reach an open help center — each screen audited by axe-core."""

import asyncio
import re
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from testkit import client, eventually
from testkit.a11y import assert_accessible

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def console(ui, viewport: dict) -> Page:
    page = await ui.page("/admin", viewport=viewport)
    await page.get_by_label("E-mail", exact=True).fill("admin@acme.test")
    await page.get_by_label("Password", exact=True).fill("demo-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Support portals")).to_be_visible()
    return page


class AdminApi:
    """Set-up through the API, as the admin (signed in once, from an address of its own)."""

    def __init__(self, ui) -> None:
        self.ui = ui
        self.token: str | None = None

    async def __call__(self, method: str, path: str, **kwargs) -> httpx.Response:
        self.token = self.token or await self.ui.login("admin@acme.test")
        async with client(self.ui.base_url, token=self.token) as http:
            return await http.request(method, f"/api/portal{path}", **kwargs)


@pytest.fixture
def api(ui) -> AdminApi:
    return AdminApi(ui)


async def test_a_late_answer_for_a_page_already_left_does_not_replace_the_list(ui, api):
    """On a slow connection an older answer can arrive last (CI saw the console's first load
    do it): it must not put back page 1 while the admin renames a company on page 2."""
    tag = uuid.uuid4().hex[:5]
    for n in range(23):
        assert (await api("POST", "/companies", json={"name": f"Late {tag} {n:02d}"})).status_code == 201
    admin = await console(ui, DESKTOP)
    await admin.get_by_role("tab", name="Companies").click()
    search = admin.get_by_label("Search companies")
    await search.fill(f"late {tag}")
    companies = admin.locator("#companies")
    await expect(admin.locator("#section-companies .pager")).to_contain_text("23 companies · page 1 of 2")

    held: list = []
    release = asyncio.Event()

    async def hold_first_page(route) -> None:
        if "page=1" in route.request.url and not held:
            held.append(route)
            await release.wait()
        await route.continue_()

    await admin.route("**/api/portal/companies/search*", hold_first_page)
    await search.fill(f"late {tag} ")  # typed again: page 1 asked for, its answer held back
    await eventually(lambda: len(held) == 1, what="page 1 asked for again")
    await admin.get_by_role("button", name="Next").click()
    await expect(companies.locator("li.company-row")).to_have_count(3)
    row = companies.locator("li.company-row", has_text=f"Late {tag} 22")
    await row.get_by_role("button", name=f"Rename Late {tag} 22").click()
    async with admin.expect_event("requestfinished", lambda r: "page=1" in r.url):
        release.set()
    await admin.evaluate("() => new Promise((done) => setTimeout(done, 200))")  # its handling ran
    await expect(companies.locator("li.company-row")).to_have_count(3)
    await expect(row.get_by_label(f"New name for Late {tag} 22")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_companies_search_pages_rename_and_delete(ui, api, shots, viewport):
    tag = uuid.uuid4().hex[:5]
    for n in range(23):
        assert (await api("POST", "/companies", json={"name": f"Firm {tag} {n:02d}"})).status_code == 201
    admin = await console(ui, viewport)
    await admin.get_by_role("tab", name="Companies").click()
    await admin.get_by_label("Search companies").fill(f"firm {tag}")
    companies = admin.locator("#companies")
    await expect(admin.locator("#section-companies .pager")).to_contain_text("23 companies · page 1 of 2")
    await expect(companies.locator("li.company-row")).to_have_count(20)
    await admin.get_by_role("button", name="Next").click()
    await expect(companies.locator("li.company-row")).to_have_count(3)
    await expect(companies).to_contain_text(f"Firm {tag} 22")
    await assert_accessible(admin, what=f"admin companies, searched, at {viewport['width']} px")
    await shots.take(admin, f"admin-companies-search-{viewport['width']}")

    # A duplicate name is refused with a sentence next to the field.
    await admin.get_by_label("New company name").fill(f"FIRM {tag} 22")
    await admin.get_by_role("button", name="Add company").click()
    await expect(admin.locator("#company-error")).to_have_text(re.compile(r"^A company named .* already exists"))
    await expect(admin.get_by_label("New company name")).to_have_attribute("aria-invalid", "true")

    # Rename: a taken name is refused in place; a free one is saved.
    row = companies.locator("li.company-row", has_text=f"Firm {tag} 22")
    await row.get_by_role("button", name=f"Rename Firm {tag} 22").click()
    await row.get_by_label(f"New name for Firm {tag} 22").fill(f"Firm {tag} 21")
    await row.get_by_role("button", name="Save name").click()
    await expect(row.locator(".field-error")).to_contain_text("already exists")
    await row.get_by_label(f"New name for Firm {tag} 22").fill(f"Firm {tag} renamed")
    await row.get_by_role("button", name="Save name").click()
    await expect(companies).to_contain_text(f"Firm {tag} renamed")

    # Delete: the dialog says what it means; Cancel keeps the company.
    renamed = companies.locator("li.company-row", has_text=f"Firm {tag} renamed")
    await renamed.get_by_role("button", name=f"Delete Firm {tag} renamed").click()
    dialog = admin.get_by_role("dialog", name=f"Delete Firm {tag} renamed?")
    await expect(dialog).to_contain_text("No technician serves it.")
    await expect(dialog).to_contain_text("Requests still waiting for a technician are cancelled")
    await expect(dialog).to_contain_text("cannot be undone")
    await assert_accessible(admin, what="delete-company confirmation")
    await shots.take(admin, f"admin-delete-company-{viewport['width']}", full_page=False)
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(renamed).to_be_visible()
    await renamed.get_by_role("button", name=f"Delete Firm {tag} renamed").click()
    await dialog.get_by_role("button", name=f"Delete Firm {tag} renamed").click()
    await expect(companies.locator("li.company-row", has_text=f"Firm {tag} renamed")).to_have_count(0)
    await expect(admin.locator("#section-companies .pager")).to_contain_text("22 companies")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_technician_form_errors_are_sentences_next_to_every_field_at_once(ui, shots, viewport):
    admin = await console(ui, viewport)
    await admin.get_by_role("tab", name="Technicians").click()
    await admin.locator("#technician-add summary").click()
    form = admin.locator("#technician-form")
    await form.get_by_label("Sign-in e-mail").fill("not-an-address")
    await form.get_by_label("Initial password").fill("short")
    await form.get_by_role("button", name="Add technician").click()
    await expect(form.locator("[data-field=email] .field-error")).to_have_text(
        "Enter an e-mail address such as name@example.com."
    )
    await expect(form.locator("[data-field=password] .field-error")).to_have_text(
        "Use a password of 8 to 128 characters."
    )
    await expect(form.locator("[data-field=name] .field-error")).not_to_be_empty()
    await expect(form).not_to_contain_text("should match pattern")
    await expect(form).not_to_contain_text("String should")
    await assert_accessible(admin, what=f"add-technician form with errors at {viewport['width']} px")
    await shots.take(admin, f"admin-technician-errors-{viewport['width']}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_portals_as_cards_on_a_phone_deactivation_confirmed_tabs_in_reach(ui, api, shots, viewport):
    admin = await console(ui, viewport)
    row = admin.locator("#portals-table tr[data-subdomain=globex]")
    deactivate = row.get_by_role("button", name="Deactivate")
    await expect(deactivate).to_be_visible()
    # Every action of the row is on screen, with no sideways scrolling.
    for name in ("Edit", "Deactivate", "Show URLs and code"):
        box = await row.get_by_role("button", name=name).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (name, box)
    assert await admin.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    await assert_accessible(admin, what=f"admin portals at {viewport['width']} px")
    await shots.take(admin, f"admin-portals-{viewport['width']}")

    # Deactivating a live portal asks first; cancelling changes nothing.
    await deactivate.click()
    dialog = admin.get_by_role("dialog", name="Deactivate globex?")
    await expect(dialog).to_contain_text("Service unavailable")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)
    await expect(row).to_contain_text("Active")
    portals = {p["subdomain"]: p for p in (await api("GET", "/portals")).json()}
    assert portals["globex"]["status"] == "active"

    # Scrolled down, the tab bar stays below the sticky header and can be clicked.
    await admin.get_by_role("tab", name="Technicians").click()
    await admin.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    tab = admin.get_by_role("tab", name="Companies")
    header = await admin.locator(".topbar").bounding_box()
    box = await tab.bounding_box()
    assert header and box and box["y"] >= header["y"] + header["height"] - 1, (header, box)
    await tab.click()
    await expect(admin.get_by_role("heading", name="Companies", exact=True)).to_be_visible()


async def test_access_edited_in_the_drawer_reaches_an_open_help_center(ui, api, shots):
    tag = uuid.uuid4().hex[:5]
    company = (await api("POST", "/companies", json={"name": f"Live {tag}"})).json()
    email = f"lena-{tag}@acme.test"
    created = await api(
        "POST",
        "/technicians",
        json={"name": f"Lena {tag}", "email": email, "password": "demo-password", "company_ids": ["cmp_globex"]},
    )
    assert created.status_code == 201, created.text
    subdomain = f"live{tag}"
    portal = await api(
        "POST",
        "/portals",
        json={"company_id": company["company_id"], "subdomain": subdomain, "mode": "phone", "portal_type": "smart_pin"},
    )
    assert portal.status_code == 201, portal.text

    lena = await ui.page("/help", viewport=DESKTOP)
    await lena.get_by_label("E-mail", exact=True).fill(email)
    await lena.get_by_label("Password", exact=True).fill("demo-password")
    await lena.get_by_role("button", name="Sign in").click()
    await expect(lena.locator("#connection")).to_contain_text("Connected")
    codes = lena.locator("#codes-card")
    await expect(codes).to_contain_text("none of the companies you serve has one")

    admin = await console(ui, DESKTOP)
    await admin.get_by_role("tab", name="Technicians").click()
    await admin.get_by_label("Search technicians").fill(email)
    row = admin.locator(f"#technicians li[data-email='{email}']")
    await expect(admin.locator("#technicians li.tech-row")).to_have_count(1)
    await row.get_by_role("button", name=f"Edit Lena {tag}'s access").click()
    drawer = admin.get_by_role("dialog", name=f"Lena {tag}'s access")
    await drawer.get_by_role("searchbox").fill(f"live {tag}")
    await expect(drawer.locator(".picker-options label")).to_have_count(1)
    await drawer.get_by_label(f"Live {tag}").check()
    await expect(drawer).to_contain_text("2 of")
    await assert_accessible(admin, what="technician access drawer")
    await shots.take(admin, "admin-access-drawer", full_page=False)
    await drawer.get_by_role("button", name="Save access").click()
    await expect(row).to_contain_text(f"Live {tag}")

    # Without signing in again, Lena's help center offers codes for the new Phone company.
    await expect(codes.get_by_role("button", name="Generate code")).to_be_visible(timeout=40_000)
    await codes.get_by_role("button", name="Generate code").click()
    await expect(codes.locator(".code").first).to_have_text(re.compile(r"^\d{3} \d{3} \d{3}$"))
