"""The floating widget on a third-party page (the embed demo): launcher, panel, keyboard,
JavaScript API with prefill, unread badge, full screen on a phone; the inline window sizes
itself and shows no page background inside the host page."""

import pytest
from playwright.async_api import FrameLocator, Page, expect

from testkit.a11y import assert_accessible

pytestmark = pytest.mark.e2e

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "reduced_motion": "reduce"}
PHONE = {"viewport": {"width": 390, "height": 844}, "reduced_motion": "reduce"}


async def open_form(portal: FrameLocator, attempts: int = 12) -> None:
    """The portal in the frame shows the form once the availability read model caught up."""
    heading = portal.get_by_role("heading", name="How can we help?")
    for _ in range(attempts):
        try:
            await expect(heading).to_be_visible(timeout=2_500)
            return
        except AssertionError:
            again = portal.get_by_role("button", name="Check again")
            if await again.count():
                await again.click()
    await expect(heading).to_be_visible()


async def _demo(ui, **options) -> Page:
    page = await ui.page("/embed-demo", **options)
    await expect(page.get_by_text("The chat widget is ready.")).to_be_visible()
    return page


async def test_the_widget_opens_from_its_launcher_and_its_api_and_closes_with_escape(ui, shots):
    await ui.technician("ana@acme.test")  # someone to serve Globex: the form shows
    page = await _demo(ui, **DESKTOP)
    launcher = page.locator(".assistline-launcher")
    panel = page.locator(".assistline-panel")
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    await expect(launcher).to_have_accessible_name("Contact Globex support")
    await expect(panel).to_be_hidden()
    box = await launcher.bounding_box()
    assert box and box["x"] > 1100 and box["y"] > 780, box  # bottom right corner
    await shots.take(page, "widget-closed", full_page=False)

    # Keyboard: the launcher is a button; Enter opens, Escape (inside the portal) closes and
    # gives the focus back to the launcher.
    await launcher.focus()
    await page.keyboard.press("Enter")
    await expect(panel).to_be_visible()
    await expect(launcher).to_have_attribute("aria-expanded", "true")
    portal = page.frame_locator(".assistline-panel iframe")
    await expect(portal.get_by_role("heading", name="Globex support")).to_be_visible()
    await portal.locator("body").press("Escape")
    await expect(panel).to_be_hidden()
    await expect(launcher).to_be_focused()

    # The site's own button uses the API; the visitor's name and e-mail arrive prefilled.
    await page.get_by_role("button", name="Open, signed in as Dana").click()
    await expect(panel).to_be_visible()
    await open_form(portal)
    await expect(portal.get_by_label("Your name")).to_have_value("Dana Visitor")
    await expect(portal.get_by_label("E-mail")).to_have_value("dana@example.com")
    panel_box = await panel.bounding_box()
    assert panel_box and panel_box["width"] < 500, panel_box  # a panel, not the page
    await assert_accessible(page, what="embed demo with the widget open")
    await shots.take(page, "widget-open", full_page=False)
    assert await page.evaluate("window.Assistline.isOpen()")
    await page.evaluate("window.Assistline.toggle()")
    await expect(panel).to_be_hidden()


async def test_the_widget_badge_counts_a_technician_message_while_it_is_closed(ui, shots):
    ana = await ui.technician("ana@acme.test")
    page = await _demo(ui, **DESKTOP)
    await page.evaluate("window.Assistline.open()")
    portal = page.frame_locator(".assistline-panel iframe")
    await open_form(portal)
    await portal.get_by_label("Your name").fill("Wendy Widget")
    await portal.get_by_label("Describe your problem").fill("The widget customer needs help.")
    await portal.get_by_role("button", name="Send request").click()
    alert = ana.locator(".alert", has_text="Wendy Widget")
    await alert.get_by_role("button", name="Accept").click()
    await expect(portal.get_by_role("heading", name="Chat with Ana")).to_be_visible()
    await expect(portal.get_by_role("log", name="Messages")).to_be_visible()
    await page.evaluate("window.Assistline.close()")
    chat = ana.locator(".chat", has_text="Wendy Widget")
    await chat.get_by_role("textbox").fill("Hello Wendy, Ana here.")
    await chat.get_by_role("button", name="Send").click()
    launcher = page.locator(".assistline-launcher")
    await expect(page.locator(".assistline-badge")).to_have_text("1")
    await expect(launcher).to_have_accessible_name("Contact Globex support (1 unread message)")
    await shots.take(page, "widget-unread", full_page=False)
    await launcher.click()
    await expect(portal.locator(".al-msg", has_text="Hello Wendy, Ana here.")).to_be_visible()
    await expect(page.locator(".assistline-badge")).to_be_hidden()

    async def confirm(dialog) -> None:
        await dialog.accept()

    page.once("dialog", confirm)
    await portal.get_by_role("button", name="Leave the chat").click()
    await expect(portal.get_by_role("heading", name="Your support session has ended")).to_be_visible()


async def test_on_a_phone_the_widget_panel_is_full_screen(ui, shots):
    page = await _demo(ui, **PHONE)
    await page.locator(".assistline-launcher").click()
    panel = await page.locator(".assistline-panel").bounding_box()
    assert panel and panel["width"] == 390 and panel["height"] == 844 and panel["x"] == 0 and panel["y"] == 0
    await expect(page.get_by_role("button", name="Close the support chat")).to_be_visible()
    await assert_accessible(page, what="widget full screen on a phone")
    await shots.take(page, "widget-phone", full_page=False)
    await page.get_by_role("button", name="Close the support chat").click()
    await expect(page.locator(".assistline-launcher")).to_be_visible()


async def test_the_inline_window_has_no_page_background_and_follows_its_content(ui, shots):
    page = await ui.page("/embed-demo", **DESKTOP)
    frame = page.locator(".support iframe")
    portal = page.frame_locator(".support iframe")
    await expect(portal.get_by_role("heading", name="Globex support")).to_be_visible()
    background = await portal.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
    assert background == "rgba(0, 0, 0, 0)", background
    # Its height is the portal's, not a fixed 640 px box.
    inner = await portal.locator("#assistline-portal").evaluate("el => Math.ceil(el.getBoundingClientRect().height)")
    outer = await frame.evaluate("f => f.getBoundingClientRect().height")
    assert abs(outer - max(320, inner + 2)) <= 4, (outer, inner)
