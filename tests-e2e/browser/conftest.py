"""Browser fixtures: Debian's Chromium driven by Playwright, against the whole system."""

import uuid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from testkit import client, wait_known_to_presence
from testkit.a11y import screenshot

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PASSWORD = "demo-password"
# mongoeco makes every hop (portal → dispatch → presence → browser) take a moment.
expect.set_options(timeout=25_000)


@pytest.fixture(scope="session")
async def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


class Shots:
    """Screenshots of each main screen, kept as test artefacts (testkit.a11y.screenshot)."""

    async def take(self, page: Page, name: str, *, full_page: bool = True) -> Path:
        return await screenshot(page, name, full_page=full_page)


@pytest.fixture(scope="session")
def shots() -> Shots:
    return Shots()


class Ui:
    """Opens the system's screens in separate browser contexts (one per person)."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []
        self.made_technicians: list[str] = []

    async def context(self, **options) -> BrowserContext:
        context = await self.browser.new_context(base_url=self.base_url, **options)
        self.contexts.append(context)
        return context

    async def page(self, path: str, **options) -> Page:
        context = await self.context(**options)
        page = await context.new_page()
        await page.goto(path)
        return page

    async def technician(self, email: str, *, available: bool | None = True, password: str = PASSWORD) -> Page:
        page = await self.page("/help", viewport={"width": 1440, "height": 900})
        await page.get_by_label("E-mail", exact=True).fill(email)
        await page.get_by_label("Password", exact=True).fill(password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#connection")).to_contain_text("Connected")
        if available is not None:
            await expect(page.locator("#status-select")).to_be_visible()
            await page.locator("#status-select").select_option("available" if available else "unavailable")
            await expect(page.locator("#incoming-hint")).to_contain_text(
                "You are available" if available else "You are unavailable"
            )
        return page

    async def new_technician(self, name: str, companies: list[str]) -> str:
        """A demo-account technician of the test's own (earlier tests' chats and statuses of the
        demo technicians cannot change who gets what), removed when the test ends so they never
        take a later test's requests. Returns their e-mail."""
        email = f"{name.lower()}-{uuid.uuid4().hex[:6]}@acme.test"
        body = {"name": name, "email": email, "password": PASSWORD, "company_ids": companies, "capacity": 3}
        async with client(self.base_url, token=await self.login("admin@acme.test")) as http:
            made = await http.post("/api/portal/technicians", json=body)
            made.raise_for_status()
        self.made_technicians.append(made.json()["technician_id"])
        await wait_known_to_presence(self.base_url, await self.login(email))
        return email

    async def customer(self, subdomain: str, **options) -> Page:
        return await self.page(f"/p/{subdomain}", **options)

    async def login(self, email: str) -> str:
        # From an address of its own: set-up sign-ins never use up the browser's allowance.
        async with client(self.base_url) as client_:
            response = await client_.post("/api/portal/auth/login", json={"email": email, "password": PASSWORD})
            response.raise_for_status()
            return response.json()["token"]

    async def set_status(self, email: str, status: str) -> None:
        """Set-up only: a technician's chosen status, as their status menu would set it."""
        token = await self.login(email)
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            response = await client.put(
                "/api/presence/me/status", json={"status": status}, headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()

    @staticmethod
    async def open_form(page: Page, heading: str = "How can we help?", attempts: int = 12) -> None:
        """The portal shows the form once the availability read model has caught up."""
        for _ in range(attempts):
            try:
                await expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=2_500)
                return
            except AssertionError:
                await page.reload()
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()

    async def close(self) -> None:
        if self.made_technicians:
            async with client(self.base_url, token=await self.login("admin@acme.test")) as http:
                for technician_id in self.made_technicians:
                    gone = await http.delete(f"/api/portal/technicians/{technician_id}")
                    assert gone.status_code in {200, 204, 404}, gone.text
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def ui(system, browser):
    ui = Ui(browser, system.gateway_url)
    yield ui
    await ui.close()
