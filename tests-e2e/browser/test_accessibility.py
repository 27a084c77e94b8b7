"""The accessibility audit itself: it catches what it must, and the sign-in screens pass it."""

import pytest
from playwright.async_api import expect

from testkit.a11y import assert_accessible, audit

pytestmark = pytest.mark.e2e


async def test_the_audit_fails_on_a_serious_violation_and_names_the_element(browser):
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main>'
            '<button id="mute"></button><p style="color:#ccc;background:#fff">faint</p></main></body></html>'
        )
        with pytest.raises(AssertionError) as failure:
            await assert_accessible(page, what="a page with an unnamed button")
        message = str(failure.value)
        assert "a page with an unnamed button" in message
        assert "button-name" in message and "#mute" in message
        assert "color-contrast" in message
        # The same page without the faults passes.
        await page.set_content(
            '<html lang="en"><head><title>t</title></head><body><main>'
            '<button id="mute">Mute</button><p>clear</p></main></body></html>'
        )
        assert [v["id"] for v in await audit(page) if v["impact"] in ("critical", "serious")] == []
        await assert_accessible(page, what="the fixed page")
    finally:
        await context.close()


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
async def test_sign_in_screens_pass_the_audit(ui, shots, viewport):
    for path, name in (("/help", "help"), ("/admin", "admin")):
        page = await ui.page(path, viewport=viewport)
        await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        await assert_accessible(page, what=f"{path} sign-in at {viewport['width']} px")
        await shots.take(page, f"{name}-sign-in-{viewport['width']}")
