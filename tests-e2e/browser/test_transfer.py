"""Transfer to a colleague in the browser (1280×800): Ana hands her chat to Ben with a note,
Ben sees the note and accepts, the customer is told, Ben carries on, and Ana's chat is gone;
each new screen audited by axe-core and kept as a screenshot."""

from contextlib import suppress

import pytest
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from testkit import client, eventually, provision_tenant, wait_known_to_presence
from testkit.a11y import assert_accessible, screenshot

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def desk_of(ui, technician: dict, password: str) -> Page:
    # Reduced motion: the audit reads colours at once, not a quarter-second into a fade-in.
    page = await ui.page("/help", viewport=DESKTOP, reduced_motion="reduce")
    await page.get_by_label("E-mail", exact=True).fill(technician["email"])
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#connection")).to_contain_text("Connected")
    await page.locator("#status-select").select_option("available")
    await expect(page.locator("#incoming-hint")).to_contain_text("You are available")
    return page


async def ana_and_ben(system, name: str, mode: str):
    """A fresh account with one company (its portal in `mode`), and Ana and Ben serving it."""
    tenant = await provision_tenant(
        system.gateway_url,
        name,
        companies={"portal": {"mode": mode, "portal_type": "smart_box"}},
        technicians={"Ana": ["portal"], "Ben": ["portal"]},
    )
    for technician in ("Ana", "Ben"):
        await wait_known_to_presence(system.gateway_url, tenant.technicians[technician]["token"])
    return tenant


async def ask_for_help(ui, tenant, customer_name: str, problem: str) -> Page:
    customer = await ui.customer(tenant.portals["portal"]["subdomain"], viewport=PHONE, reduced_motion="reduce")
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill(customer_name)
    await customer.get_by_label("Describe your problem").fill(problem)
    await customer.get_by_role("button", name="Send request").click()
    return customer


async def take(desk: Page, customer: Page, customer_name: str, button: str):
    """The technician takes the request from its alert; the chat is open on both sides."""
    take_it = desk.locator(".alert", has_text=customer_name).get_by_role("button", name=button)
    chat = desk.locator(".chat", has_text=customer_name)
    box = chat.get_by_role("textbox", name=f"Message to {customer_name}")
    await expect(take_it.or_(box)).to_be_visible()
    if button == "Open chat":
        # A Queue assignment is the technician's already: the help center's refresh may open
        # its chat (and drop the alert) before the click lands.
        with suppress(PlaywrightTimeoutError):
            if not await box.is_visible():
                await take_it.click(timeout=5_000)
    else:
        await take_it.click()
    await expect(box).to_be_visible()
    await expect(customer.get_by_role("heading", name="Chat with Ana")).to_be_visible()
    return chat


async def test_a_chat_is_transferred_to_a_colleague_with_a_note(system, ui):
    tenant = await ana_and_ben(system, "Transfers", "web")
    ana = await desk_of(ui, tenant.technicians["Ana"], tenant.password)
    ben = await desk_of(ui, tenant.technicians["Ben"], tenant.password)
    customer = await ask_for_help(ui, tenant, "Dora Customer", "The VPN drops every ten minutes.")
    chat = await take(ana, customer, "Dora Customer", "Accept")
    await chat.get_by_role("textbox", name="Message to Dora Customer").fill("Hello Dora, let me look.")
    await chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="Hello Dora, let me look.")).to_be_visible()

    # Ana picks Ben (the only available colleague) and writes a note only technicians see.
    await chat.get_by_role("button", name="Transfer").click()
    form = chat.locator(".transfer-form")
    await expect(form.get_by_label("Transfer to")).to_have_value(tenant.technicians["Ben"]["technician_id"])
    await form.get_by_label("Note for your colleague").fill("Network team: the VPN client is version 4.2.")
    await assert_accessible(ana, what="help center, transfer form open, desktop")
    await screenshot(ana, "transfer-form-desktop")
    await form.get_by_role("button", name="Send transfer").click()
    await expect(chat.locator(".transfer-status")).to_have_text("Waiting for Ben to accept…")

    # Ben's alert says who asks and carries the note; he accepts.
    offer = ben.locator(".alert.transfer", has_text="Dora Customer")
    await expect(offer).to_contain_text("Ana asks you to take over this chat")
    await expect(offer).to_contain_text("Network team: the VPN client is version 4.2.")
    await assert_accessible(ben, what="help center, transfer offer, desktop")
    await screenshot(ben, "transfer-offer-desktop")
    await offer.get_by_role("button", name="Accept transfer").click()

    # Ben has the chat (history and note included); the customer is told; Ana's chat is gone.
    ben_chat = ben.locator(".chat", has_text="Dora Customer")
    await expect(ben_chat.locator(".transfer-note")).to_contain_text("the VPN client is version 4.2.")
    await expect(ben_chat.locator(".msg", has_text="Hello Dora, let me look.")).to_be_visible()
    await expect(ben_chat.locator(".msg.system", has_text="Ana transferred the chat to Ben.")).to_be_visible()
    await expect(customer.locator(".al-msg", has_text="Ana transferred the chat to Ben.")).to_be_visible()
    await expect(customer.get_by_role("heading", name="Chat with Ben")).to_be_visible()
    await expect(chat).to_have_count(0)
    await expect(ana.locator("#list-active li", has_text="Dora Customer")).to_have_count(0)
    assert await customer.locator(".al-msg", has_text="Network team").count() == 0

    await ben_chat.get_by_role("textbox", name="Message to Dora Customer").fill("Ben here, I will fix the VPN.")
    await ben_chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="Ben here, I will fix the VPN.")).to_be_visible()
    await customer.get_by_label("Message to Ben").fill("Thanks Ben!")
    await customer.get_by_role("button", name="Send").click()
    await expect(ben_chat.locator(".msg", has_text="Thanks Ben!")).to_be_visible()
    await assert_accessible(ben, what="help center, chat taken over, desktop")
    await screenshot(ben, "transfer-accepted-desktop")
    await screenshot(customer, "transfer-customer-phone")


async def test_a_queue_chat_sent_back_goes_to_the_next_technician_in_the_same_chat(system, ui):
    tenant = await ana_and_ben(system, "Back To Queue", "queue")
    ana = await desk_of(ui, tenant.technicians["Ana"], tenant.password)
    customer = await ask_for_help(ui, tenant, "Quinn Customer", "My mailbox is full.")
    chat = await take(ana, customer, "Quinn Customer", "Open chat")

    # Ben comes on duty; Ana sends the chat back to the queue with a note for whoever is next.
    ben = await desk_of(ui, tenant.technicians["Ben"], tenant.password)
    # Positive barrier: dispatch counts Ben available with a free slot before the chat goes
    # back (else the line holds nobody but Ana and it comes back to her).
    await eventually(lambda: _routable(system, tenant, "Ana", "Ben"), timeout=30, what="Ben routable")
    await chat.get_by_role("button", name="Transfer").click()
    form = chat.locator(".transfer-form")
    await form.get_by_label("Transfer to").select_option(label="The company's queue")
    await form.get_by_label("Note for your colleague").fill("Archive rule needs an admin.")
    await form.get_by_role("button", name="Send transfer").click()
    await expect(chat).to_have_count(0)
    await expect(
        customer.locator(".al-msg", has_text="You are being transferred to another technician.")
    ).to_be_visible()

    # Ben is next in line: the assignment alert, then the same chat with Ana's note.
    await ben.locator(".alert", has_text="Quinn Customer").get_by_role("button", name="Open chat").click()
    ben_chat = ben.locator(".chat", has_text="Quinn Customer")
    await expect(ben_chat.locator(".transfer-note")).to_contain_text("Archive rule needs an admin.")
    await expect(
        customer.locator(".al-msg", has_text="The chat was transferred to another technician.")
    ).to_be_visible()
    await ben_chat.get_by_role("textbox", name="Message to Quinn Customer").fill("Ben here, on it.")
    await ben_chat.get_by_role("button", name="Send").click()
    await expect(customer.locator(".al-msg", has_text="Ben here, on it.")).to_be_visible()
    await expect(customer.get_by_role("heading", name="Chat with Ben")).to_be_visible()
    await expect(ana.locator("#list-active li", has_text="Quinn Customer")).to_have_count(0)
    await assert_accessible(ben, what="help center, chat from the queue with a note, desktop")
    await screenshot(ben, "transfer-from-queue-desktop")
    await screenshot(customer, "transfer-queue-customer-phone")


async def _routable(system, tenant, holder: str, colleague: str) -> bool:
    """`colleague` is among the colleagues dispatch offers for `holder`'s open request."""
    async with client(system.gateway_url, token=tenant.technicians[holder]["token"]) as http:
        mine = (await http.get("/api/dispatch/requests")).json()["requests"]
        for request in mine:
            found = await http.get(f"/api/dispatch/requests/{request['request_id']}/colleagues")
            if found.status_code == 200 and any(
                c["technician_id"] == tenant.technicians[colleague]["technician_id"] for c in found.json()["colleagues"]
            ):
                return True
    return False
