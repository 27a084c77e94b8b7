"""Web mode, SmartBox: offered to every available technician, the first to accept wins."""

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.e2e


async def test_customer_is_served_by_the_first_technician_to_accept(ui, shots):
    ana = await ui.technician("ana@acme.test")
    ben = await ui.technician("ben@acme.test")
    await shots.take(ana, "help-center-signed-in")

    customer = await ui.customer("globex", viewport={"width": 390, "height": 844})
    await ui.open_form(customer)
    await shots.take(customer, "customer-form-smartbox")

    # The server's validation messages show next to their fields.
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.locator("[data-field=customer_name] .al-field-error")).not_to_be_empty()
    await expect(customer.get_by_label("Your name")).to_have_attribute("aria-invalid", "true")
    await shots.take(customer, "customer-form-validation")

    await customer.get_by_label("Your name").fill("Dana Customer")
    await customer.get_by_label("Describe your problem").fill("My printer prints only blank pages.")
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.get_by_role("heading", name="Your request")).to_be_visible()
    await expect(customer.get_by_role("button", name="Cancel my request")).to_be_visible()
    await shots.take(customer, "customer-waiting")

    # Both available Globex technicians get the alert.
    ana_alert = ana.locator(".alert", has_text="Dana Customer")
    ben_alert = ben.locator(".alert", has_text="Dana Customer")
    await expect(ana_alert).to_be_visible()
    await expect(ben_alert).to_be_visible()
    await expect(ben_alert).to_contain_text("My printer prints only blank pages.")
    await shots.take(ben, "help-center-incoming-alert")

    # Ana accepts first: Ben's alert vanishes, and only Ana gets the chat.
    await ana_alert.get_by_role("button", name="Accept").click()
    chat = ana.locator(".chat", has_text="Dana Customer")
    await expect(chat).to_be_visible()
    await expect(ben_alert).to_have_count(0)
    await expect(ben.locator(".chat", has_text="Dana Customer")).to_have_count(0)
    winner_page, winner_name = ana, "Ana"

    # The customer chats with the winner; text is text, never markup.
    await expect(customer.get_by_role("heading", name=f"Chat with {winner_name}")).to_be_visible()
    await chat.get_by_role("textbox").fill("<b>Hello</b> Dana, I can help.")
    await chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="<b>Hello</b> Dana, I can help.")).to_be_visible()
    assert await customer.locator(".al-messages b").count() == 0
    await customer.get_by_label(f"Message to {winner_name}").fill("Thanks! It started this morning.")
    await customer.get_by_role("button", name="Send").click()
    await expect(chat.locator(".msg", has_text="It started this morning.")).to_be_visible()
    await shots.take(customer, "customer-chat")
    await shots.take(winner_page, "help-center-chat")

    # The technician ends the session with notes and an outcome.
    await chat.get_by_role("button", name="End session").click()
    await chat.get_by_label("Notes").fill("Replaced the toner cartridge.")
    await chat.get_by_label("Resolved", exact=True).check()
    await chat.locator(".end-form").get_by_role("button", name="End session").click()
    await expect(chat).to_contain_text("Outcome: Resolved")

    await expect(customer.get_by_role("heading", name="Your support session has ended")).to_be_visible()
    async with customer.expect_download() as download_info:
        await customer.get_by_role("button", name="Download the transcript").click()
    download = await download_info.value
    transcript = (await download.path()).read_text()
    assert "It started this morning." in transcript
    await shots.take(customer, "customer-ended")

    await winner_page.get_by_role("tab", name="Completed").click()
    completed = winner_page.locator("#list-completed li", has_text="Dana Customer")
    await expect(completed).to_contain_text("Resolved")
    await expect(completed).to_contain_text("Replaced the toner cartridge.")
    await shots.take(winner_page, "help-center-completed")
