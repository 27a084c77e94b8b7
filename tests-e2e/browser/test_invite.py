"""Invite a colleague to join a chat, in the browser (desktop 1280×800 and phone 390×844):
Ana invites Ben with a note, Ben's invitation card carries it and he joins; the chat opens in
his workspace with "Leave chat" (no "End session"); the customer and Ana read "Ben joined the
chat.", Ben writes, the chat stays Ana's; Ben leaves and everybody reads "Ben left the chat.".
Each new screen audited by axe-core and kept as a screenshot."""

import pytest
from playwright.async_api import Page, expect

from testkit import client, eventually, provision_tenant, wait_known_to_presence
from testkit.a11y import assert_accessible, screenshot

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def desk_of(ui, technician: dict, password: str, viewport: dict) -> Page:
    # Reduced motion: the audit reads colours at once, not a quarter-second into a fade-in.
    page = await ui.page("/help", viewport=viewport, reduced_motion="reduce")
    await page.get_by_label("E-mail", exact=True).fill(technician["email"])
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#connection")).to_contain_text("Connected")
    await page.locator("#status-select").select_option("available")
    await expect(page.locator("#incoming-hint")).to_contain_text("You are available")
    return page


async def colleague_listed(system, tenant, holder: str, colleague: str) -> bool:
    """`colleague` is among the colleagues dispatch offers for `holder`'s open request."""
    async with client(system.gateway_url, token=tenant.technicians[holder]["token"]) as http:
        for request in (await http.get("/api/dispatch/requests")).json()["requests"]:
            found = await http.get(f"/api/dispatch/requests/{request['request_id']}/colleagues")
            wanted = tenant.technicians[colleague]["technician_id"]
            if found.status_code == 200 and any(c["technician_id"] == wanted for c in found.json()["colleagues"]):
                return True
    return False


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_a_colleague_joins_the_chat_writes_and_leaves(system, ui, viewport):
    size = "desktop" if viewport is DESKTOP else "phone"
    tenant = await provision_tenant(
        system.gateway_url,
        f"Invitations {size}",
        companies={"portal": {"mode": "web", "portal_type": "smart_box"}},
        technicians={"Ana": ["portal"], "Ben": ["portal"]},
    )
    for technician in ("Ana", "Ben"):
        await wait_known_to_presence(system.gateway_url, tenant.technicians[technician]["token"])
    ana = await desk_of(ui, tenant.technicians["Ana"], tenant.password, viewport)
    ben = await desk_of(ui, tenant.technicians["Ben"], tenant.password, viewport)

    customer = await ui.customer(tenant.portals["portal"]["subdomain"], viewport=PHONE, reduced_motion="reduce")
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Gil Customer")
    await customer.get_by_label("Describe your problem").fill("The shared printer prints blank pages.")
    await customer.get_by_role("button", name="Send request").click()
    await ana.locator(".alert", has_text="Gil Customer").get_by_role("button", name="Accept").click()
    chat = ana.locator(".chat", has_text="Gil Customer")
    await expect(chat.get_by_role("textbox", name="Message to Gil Customer")).to_be_visible()
    await expect(customer.get_by_role("heading", name="Chat with Ana")).to_be_visible()
    await eventually(lambda: colleague_listed(system, tenant, "Ana", "Ben"), timeout=30, what="Ben can join")

    # Ana invites Ben (the only available colleague) with a note only technicians see.
    await chat.get_by_role("button", name="Invite a colleague").click()
    form = chat.locator(".invite-form")
    await expect(form.get_by_label("Colleague to invite")).to_have_value(tenant.technicians["Ben"]["technician_id"])
    await form.get_by_label("Note for your colleague").fill("Ben knows this printer model.")
    await assert_accessible(ana, what=f"help center, invite form open, {size}")
    await screenshot(ana, f"invite-form-{size}")
    await form.get_by_role("button", name="Send invitation").click()
    await expect(chat.locator(".invite-status")).to_have_text("Waiting for Ben to join…")
    await expect(form).to_be_hidden()

    # Ben's card says who invites him and carries the note; he joins.
    card = ben.locator(".alert.invitation", has_text="Gil Customer")
    await expect(card).to_contain_text("Ana invites you to join this chat")
    await expect(card).to_contain_text("Ben knows this printer model.")
    await assert_accessible(ben, what=f"help center, invitation card, {size}")
    await screenshot(ben, f"invite-card-{size}")
    await card.get_by_role("button", name="Join chat").click()
    await expect(card).to_have_count(0)

    # The chat opens in Ben's workspace: Leave chat, no End session nor Transfer; all read who joined.
    ben_chat = ben.locator(".chat", has_text="Gil Customer")
    await expect(ben_chat.get_by_role("button", name="Leave chat with Gil Customer")).to_be_visible()
    await expect(ben_chat.get_by_role("button", name="End session")).to_be_hidden()
    await expect(ben_chat.get_by_role("button", name="Transfer")).to_have_count(0)
    await expect(ben_chat.locator(".msg.system", has_text="Ben joined the chat.")).to_be_visible()
    await expect(chat.locator(".msg.system", has_text="Ben joined the chat.")).to_be_visible()
    await expect(customer.locator(".al-msg", has_text="Ben joined the chat.")).to_be_visible()
    await expect(chat.locator(".invite-status")).to_be_hidden()

    await ben_chat.get_by_role("textbox", name="Message to Gil Customer").fill("Ben here: reinstall the driver.")
    await ben_chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="Ben here: reinstall the driver.")).to_contain_text("Ben")
    await expect(chat.locator(".msg", has_text="Ben here: reinstall the driver.")).to_contain_text("Ben")
    # The chat is still Ana's: the customer's heading does not change.
    await expect(customer.get_by_role("heading", name="Chat with Ana")).to_be_visible()
    await customer.get_by_label("Message to Ana").fill("Thanks both!")
    await customer.get_by_role("button", name="Send").click()
    await expect(ben_chat.locator(".msg", has_text="Thanks both!")).to_be_visible()
    await assert_accessible(ben, what=f"help center, chat joined as a guest, {size}")
    await screenshot(ben, f"invite-joined-{size}")
    await screenshot(customer, f"invite-customer-joined-{size}")

    # Ben leaves: his chat closes; Ana and the customer read it; Ana carries on.
    await ben_chat.get_by_role("button", name="Leave chat with Gil Customer").click()
    await expect(ben_chat).to_have_count(0)
    await expect(chat.locator(".msg.system", has_text="Ben left the chat.")).to_be_visible()
    await expect(customer.locator(".al-msg", has_text="Ben left the chat.")).to_be_visible()
    await expect(ben.locator("#list-active li", has_text="Gil Customer")).to_have_count(0)
    await chat.get_by_role("textbox", name="Message to Gil Customer").fill("Ana again: did the driver help?")
    await chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="Ana again")).to_be_visible()
    await assert_accessible(ana, what=f"help center, after the colleague left, {size}")
    await screenshot(ana, f"invite-left-{size}")
