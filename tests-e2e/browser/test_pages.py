"""The no-technician page, a Queue customer served when a technician becomes available, the embed demo."""

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def test_web_portal_without_available_technician_says_so(ui, shots):
    for email in ("ana@acme.test", "ben@acme.test"):
        await ui.set_status(email, "unavailable")
    customer = await ui.customer("globex")
    await ui.open_form(customer, heading="No technician available right now")
    await expect(customer.get_by_role("button", name="Check again")).to_be_visible()
    await shots.take(customer, "customer-no-technician")


async def test_queue_customer_waits_and_is_served_when_a_technician_becomes_available(ui, shots):
    for email in ("ana@acme.test", "chloe@acme.test"):
        await ui.set_status(email, "unavailable")
    customer = await ui.customer("initech", viewport={"width": 390, "height": 844})
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Gina Customer")
    await customer.get_by_label("Describe your problem").fill("Cannot open the shared drive.")
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.locator(".al-position")).to_have_text("You are next in the queue.")
    await shots.take(customer, "customer-queue-position")

    chloe = await ui.technician("chloe@acme.test")
    await expect(customer.get_by_role("heading", name="Chat with Chloe")).to_be_visible(timeout=45_000)
    chat = chloe.locator(".chat", has_text="Gina Customer")
    await expect(chat).to_be_visible()
    await chat.get_by_role("textbox").fill("Hello Gina, Chloe here.")
    await chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="Hello Gina, Chloe here.")).to_be_visible()
    await shots.take(chloe, "help-center-queue-assigned")


async def test_embed_demo_shows_the_portal_inside_a_third_party_page(ui, shots):
    page = await ui.page("/embed-demo", viewport={"width": 1280, "height": 900})
    await expect(page.get_by_role("heading", name="We're here to help")).to_be_visible()
    portal = page.frame_locator("iframe[title='Support chat']")
    await expect(portal.get_by_role("heading", name="Globex support")).to_be_visible()
    await expect(page.get_by_role("link", name="Contact Globex support")).to_have_attribute(
        "target", "assistline-globex"
    )
    await shots.take(page, "embed-demo")
