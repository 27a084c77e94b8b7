"""The API and event documents, browsable from the gateway with nothing from the internet:
every request a page makes goes to the gateway's own origin, and every one succeeds."""

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Request, Response, expect

pytestmark = pytest.mark.e2e

SERVICES = ("portal", "presence", "dispatch", "chat")


class Traffic:
    """Every request a page makes, and every one that failed or answered an error."""

    def __init__(self, page: Page) -> None:
        self.requests: list[str] = []
        self.failures: list[str] = []
        page.on("request", self._request)
        page.on("requestfailed", lambda request: self.failures.append(f"failed {request.url}"))
        page.on("response", self._response)

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.failures.append(f"{response.status} {response.url}")

    def foreign(self, origin: str) -> list[str]:
        return [url for url in self.requests if _origin(url) != origin and not url.startswith("data:")]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def test_every_document_opens_from_the_gateway_with_no_request_leaving_it(ui, shots):
    origin = _origin(ui.base_url)
    context = await ui.context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    traffic = Traffic(page)

    await page.goto("/docs/")
    await expect(page.get_by_role("heading", name="API and event documents")).to_be_visible()
    await shots.take(page, "docs-index")

    for service in SERVICES:
        # OpenAPI in Swagger UI, from the index's link: the operations render.
        await page.goto("/docs/")
        await page.get_by_role("row", name=f"{service}-svc").get_by_role("link", name="Swagger UI").click()
        await expect(page.locator(".swagger-ui .info .title")).to_contain_text(f"{service}-svc")
        await expect(page.locator(".opblock").first).to_be_visible()
        if service == "dispatch":
            await shots.take(page, "docs-swagger-dispatch", full_page=False)

        # AsyncAPI, rendered by the project's own viewer: what it publishes and consumes.
        await page.goto("/docs/")
        await page.get_by_role("row", name=f"{service}-svc").get_by_role("link", name="AsyncAPI", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(f"{service}-svc 1.0.0")
        await expect(page.locator(".operation").first).to_be_visible()
        await expect(page.get_by_text("consumes").first).to_be_visible()
        if service == "dispatch":
            await expect(page.get_by_text("publishes").first).to_be_visible()
            await expect(page.locator("code", has_text="request.assigned.v1").first).to_be_visible()
            await shots.take(page, "docs-asyncapi-dispatch")

    # The old AsyncAPI address (FastStream's CDN page) now leads to the project's viewer.
    await page.goto("/api/chat/asyncapi")
    await expect(page).to_have_url(f"{origin}/docs/asyncapi.html?service=chat")
    await expect(page.get_by_role("heading", level=1)).to_have_text("chat-svc 1.0.0")

    assert len(traffic.requests) > 20, traffic.requests  # scripts, styles and documents were loaded
    assert traffic.foreign(origin) == []
    assert traffic.failures == []
