"""The help center through a technician's day: nothing shows before sign-in, two chats side by
side with unread counts, the customer leaving first, stale alerts, codes only where they work,
Completed read in place — at desktop and phone sizes, each screen audited by axe-core."""

import re

import pytest
from playwright.async_api import Page, expect

from testkit.a11y import assert_accessible
from testkit.backends import REPO_ROOT

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TONE_COUNTER = """() => {
    window.__tones = 0;
    const make = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
}"""
README_SHOT = REPO_ROOT / "docs" / "screenshots" / "help-center-two-chats.png"


async def sign_in(ui, email: str, viewport: dict, *, available: bool = True) -> Page:
    page = await ui.page("/help", viewport=viewport)
    await page.get_by_label("E-mail", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill("demo-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#connection")).to_contain_text("Connected")
    await page.locator("#status-select").select_option("available" if available else "unavailable")
    await expect(page.locator("#incoming-hint")).to_contain_text("You are available" if available else "unavailable")
    return page


async def ask_for_help(ui, subdomain: str, name: str, problem: str, email: str | None = None) -> Page:
    customer = await ui.customer(subdomain, viewport=PHONE)
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill(name)
    if email:
        await customer.get_by_label("E-mail").fill(email)
    await customer.get_by_label("Describe your problem").fill(problem)
    await customer.get_by_role("button", name="Send request").click()
    await expect(customer.get_by_role("heading", name="Your request")).to_be_visible()
    return customer


async def end_chat(page: Page, customer_name: str) -> None:
    chat = page.locator(".chat", has_text=customer_name)
    await chat.get_by_role("button", name="End session").click()
    await chat.locator(".end-form").get_by_role("button", name="End session").click()
    await expect(chat).to_contain_text("Session ended.")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_before_sign_in_only_the_sign_in_form_shows(ui, shots, viewport):
    page = await ui.page("/help", viewport=viewport)
    await expect(page.get_by_role("heading", name="Sign in to your help center")).to_be_visible()
    for hidden in ("#desk", "#tools", "#status-menu", "#connection", "#sign-out", "#no-menu"):
        await expect(page.locator(hidden)).to_be_hidden()
    await expect(page.get_by_text("Connecting…")).to_be_hidden()

    # Even a status change that reaches the page before sign-in gets a sentence, not a crash.
    await page.locator("#status-select").dispatch_event("change")
    await expect(page.locator("#signin-error")).to_have_text(re.compile("^Sign in first"))
    await expect(page.locator("body")).not_to_contain_text("Cannot read properties")
    await assert_accessible(page, what=f"help center sign-in at {viewport['width']} px")
    await shots.take(page, f"help-sign-in-only-{viewport['width']}")

    # The admin console's sign-in shows no Sign out either.
    admin = await ui.page("/admin", viewport=viewport)
    await expect(admin.get_by_role("heading", name="Sign in to the admin console")).to_be_visible()
    await expect(admin.locator("#sign-out")).to_be_hidden()
    await expect(admin.locator("#app")).to_be_hidden()


async def test_two_chats_side_by_side_with_unread_counts_and_completed_in_place(ui, shots):
    tess = await sign_in(ui, await ui.new_technician("Tess", ["cmp_globex"]), DESKTOP)
    first = await ask_for_help(ui, "globex", "Hana Side", "The scanner is offline.")
    await tess.locator(".alert", has_text="Hana Side").get_by_role("button", name="Accept").click()
    second = await ask_for_help(ui, "globex", "Ivo Side", "Outlook keeps asking for a password.", "ivo@example.com")
    await tess.locator(".alert", has_text="Ivo Side").get_by_role("button", name="Accept").click()
    chat_one = tess.locator(".chat", has_text="Hana Side")
    chat_two = tess.locator(".chat", has_text="Ivo Side")
    await expect(chat_one).to_be_visible()
    await expect(chat_two).to_be_visible()
    await expect(first.get_by_role("heading", name="Chat with Tess")).to_be_visible()
    await expect(second.get_by_role("heading", name="Chat with Tess")).to_be_visible()

    # Side by side at 1280 px: same row, both wholly on screen, the first not pushed away.
    one, two = await chat_one.bounding_box(), await chat_two.bounding_box()
    assert one and two
    assert abs(one["y"] - two["y"]) < 2, (one, two)
    assert one["x"] + one["width"] <= two["x"] + 1, (one, two)
    assert two["x"] + two["width"] <= DESKTOP["width"], two
    assert one["y"] < DESKTOP["height"] and one["y"] + 200 < DESKTOP["height"], one

    # Tess is in the first chat; a message in the second counts as unread, in the tab title too.
    await chat_one.get_by_role("textbox").click()
    # Count the tones the page plays (the chime is two oscillators made with WebAudio).
    await tess.evaluate(TONE_COUNTER)
    await second.get_by_label("Message to Tess").fill("Still waiting for the password box…")
    await second.get_by_role("button", name="Send").click()
    await expect(chat_two.locator(".msg", has_text="Still waiting")).to_be_visible()
    await expect(chat_two.locator(".unread")).to_have_text("1")
    await expect(tess).to_have_title(re.compile(r"^\(1\) Help center"))
    assert await tess.evaluate("window.__tones") >= 1, "no sound for a new message with sounds on"
    await expect(chat_one.locator(".unread")).to_be_hidden()
    await tess.get_by_role("tab", name="Active").click()
    await expect(tess.locator("#list-active li", has_text="Ivo Side").locator(".unread")).to_have_text("1")
    await assert_accessible(tess, what="help center with two chats, one unread")
    # The README shows this screen: from the top, without the passing toasts.
    await tess.evaluate("() => { document.querySelector('#toasts').replaceChildren(); window.scrollTo(0, 0); }")
    await shots.take(tess, "help-center-two-chats", full_page=False)
    await tess.screenshot(path=str(README_SHOT), full_page=False, animations="disabled")

    # The customer panel: who, through which portal, what they wrote, earlier requests.
    await chat_two.get_by_text("Customer details").click()
    details = chat_two.locator(".customer-panel")
    await expect(details).to_contain_text("ivo@example.com")
    await expect(details).to_contain_text("globex (Globex)")
    await expect(details).to_contain_text("Outlook keeps asking for a password.")
    await expect(details).to_contain_text("Earlier requests")

    # Reading the chat clears its count and the title.
    await chat_two.get_by_role("textbox").click()
    await expect(chat_two.locator(".unread")).to_be_hidden()
    await expect(tess).to_have_title(re.compile(r"^Help center"))

    # Sounds off: the next message is counted, silently.
    await tess.get_by_label("Notification sound").uncheck()
    await expect(tess.locator("#toasts")).to_contain_text("Preferences saved.")
    await chat_one.get_by_role("textbox").click()
    tones = await tess.evaluate("window.__tones")
    await second.get_by_label("Message to Tess").fill("Found it, thanks.")
    await second.get_by_role("button", name="Send").click()
    await expect(chat_two.locator(".unread")).to_have_text("1")
    assert await tess.evaluate("window.__tones") == tones, "a sound played although sounds are off"
    await chat_two.get_by_role("textbox").click()

    # Both end; Completed lists them with date, duration and outcome, transcript in place.
    await end_chat(tess, "Hana Side")
    await end_chat(tess, "Ivo Side")
    await tess.get_by_role("tab", name="Completed").click()
    done = tess.locator("#list-completed li", has_text="Ivo Side")
    await expect(done).to_contain_text("Resolved")
    await expect(done).to_contain_text("Lasted")
    await done.get_by_role("button", name="Read transcript").click()
    await expect(done.get_by_role("list", name=re.compile("Transcript"))).to_contain_text(
        "Still waiting for the password box…"
    )
    # Search narrows the list; a search matching nothing says so.
    await tess.get_by_label("Search completed chats").fill("scanner")
    await expect(tess.locator("#list-completed li", has_text="Hana Side")).to_be_visible()
    await expect(tess.locator("#list-completed li", has_text="Ivo Side")).to_have_count(0)
    await tess.get_by_label("Search completed chats").fill("no such words anywhere")
    await expect(tess.locator("#list-completed")).to_contain_text("No completed session matches your search.")
    await tess.get_by_label("Search completed chats").fill("")
    await assert_accessible(tess, what="help center Completed with a transcript open")
    await shots.take(tess, "help-center-completed-in-place")
    # Finished requests never come back under New.
    await tess.get_by_role("tab", name="New").click()
    await expect(tess.locator("#list-new")).to_contain_text("Nothing new.")
    await expect(tess.locator("#list-new")).not_to_contain_text("Hana Side")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_after_the_customer_leaves_the_technician_records_notes_and_outcome(ui, shots, viewport):
    uma = await sign_in(ui, await ui.new_technician("Uma", ["cmp_globex"]), viewport)
    name = f"Jana Leaves {viewport['width']}"
    customer = await ask_for_help(ui, "globex", name, "The VPN client crashes.")
    await uma.locator(".alert", has_text=name).get_by_role("button", name="Accept").click()
    chat = uma.locator(".chat", has_text=name)
    await expect(customer.get_by_role("heading", name="Chat with Uma")).to_be_visible()
    # Both sides in the chat before the customer leaves (a chat that ended before the help
    # center's next refresh never opens as a chat: it is listed as completed instead).
    await expect(chat.get_by_role("textbox", name=f"Message to {name}")).to_be_visible()

    customer.once("dialog", lambda dialog: dialog.accept())
    await customer.get_by_role("button", name="Leave the chat").click()
    await expect(chat).to_contain_text("The customer left the chat.")
    # An ended chat has no message box and no End session, but asks for the outcome.
    await expect(chat.get_by_role("textbox", name=f"Message to {name}")).to_be_hidden()
    await expect(chat.get_by_role("button", name="End session")).to_be_hidden()
    wrap = chat.locator(".wrap-up")
    await expect(wrap).to_be_visible()
    await wrap.get_by_label("Notes").fill("Reinstalled the VPN client; the customer left before confirming.")
    await wrap.get_by_label("Unresolved", exact=True).check()
    await assert_accessible(uma, what=f"help center, customer left first, at {viewport['width']} px")
    await wrap.get_by_role("button", name="Save outcome and notes").click()
    await expect(wrap).to_contain_text("Saved: outcome Unresolved")
    await shots.take(uma, f"help-center-wrap-up-{viewport['width']}")

    await uma.get_by_role("tab", name="Completed").click()
    done = uma.locator("#list-completed li", has_text=name)
    await expect(done).to_contain_text("Unresolved")
    await expect(done).to_contain_text("Reinstalled the VPN client")
    await uma.get_by_role("tab", name="New").click()
    await expect(uma.locator("#list-new")).not_to_contain_text(name)


async def test_a_queue_assignment_alert_goes_when_the_chat_ends_and_stays_gone_after_signing_in_again(ui, shots):
    email = await ui.new_technician("Vic", ["cmp_initech"])
    vic = await sign_in(ui, email, DESKTOP)
    customer = await ask_for_help(ui, "initech", "Kai Queue", "The printer queue is stuck.")
    alert = vic.locator(".alert", has_text="Kai Queue")
    chat = vic.locator(".chat", has_text="Kai Queue")
    await expect(chat).to_be_visible(timeout=45_000)
    await expect(customer.get_by_role("heading", name="Chat with Vic")).to_be_visible()

    customer.once("dialog", lambda dialog: dialog.accept())
    await customer.get_by_role("button", name="Leave the chat").click()
    await expect(chat).to_contain_text("The customer left the chat.")
    await expect(alert).to_have_count(0)
    await vic.get_by_role("tab", name="Completed").click()
    await expect(vic.locator("#list-completed li", has_text="Kai Queue")).to_be_visible()
    await vic.get_by_role("tab", name="New").click()
    await expect(vic.locator("#list-new")).not_to_contain_text("Kai Queue")

    # Signed in again: the lists are drawn (positive barrier), and the old alert is not back.
    await vic.get_by_role("button", name="Sign out").click()
    await vic.get_by_label("E-mail", exact=True).fill(email)
    await vic.get_by_label("Password", exact=True).fill("demo-password")
    await vic.get_by_role("button", name="Sign in").click()
    await expect(vic.locator("#connection")).to_contain_text("Connected")
    await vic.get_by_role("tab", name="Completed").click()
    await expect(vic.locator("#list-completed li", has_text="Kai Queue")).to_be_visible()
    await expect(vic.locator("#alerts .alert", has_text="Kai Queue")).to_have_count(0)
    await vic.get_by_role("tab", name="New").click()
    await expect(vic.locator("#list-new")).not_to_contain_text("Kai Queue")
    await assert_accessible(vic, what="help center after signing in again")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_no_connection_codes_for_web_and_queue_companies(ui, shots, viewport):
    ana = await sign_in(ui, "ana@acme.test", viewport, available=False)
    codes = ana.locator("#codes-card")
    await expect(codes).to_contain_text("none of the companies you serve has one")
    await expect(codes.get_by_role("button", name="Generate code")).to_be_hidden()
    await assert_accessible(ana, what=f"help center signed in at {viewport['width']} px")
    await shots.take(ana, f"help-center-signed-in-{viewport['width']}")
    # The API refuses too, with a sentence.
    token = await ui.login("ana@acme.test")
    answer = await ana.evaluate(
        """async (token) => {
            const r = await fetch("/api/dispatch/codes", {method: "POST",
              headers: {"Content-Type": "application/json", Authorization: `Bearer ${token}`},
              body: JSON.stringify({company_id: "cmp_globex"})});
            return {status: r.status, body: await r.json()};
        }""",
        token,
    )
    assert answer["status"] == 409 and answer["body"]["error"] == "not_phone_mode", answer
    assert "Web mode" in answer["body"]["message"]
