"""Satisfaction (issue 16, feature 4): at the end of a chat the customer rates it at phone
size with the keyboard (a radio group of stars), adds a comment, and sees a thank-you; the
rating shows with the session in the technician's Completed list and cannot be given twice."""

import pytest
from playwright.async_api import expect

from testkit import bearer, eventually
from testkit.a11y import assert_accessible
from testkit.tenants import PASSWORD, provision_tenant

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "reduced_motion": "reduce"}


async def test_a_customer_rates_the_ended_chat_and_the_technician_sees_it(system, ui, shots):
    tenant = await provision_tenant(
        system.gateway_url,
        "Ratings",
        companies={"desk": {"mode": "queue", "portal_type": "smart_box"}},
        technicians={"Rhea": ["desk"]},
        password=PASSWORD,
    )
    email = str(tenant.technicians["Rhea"]["email"])
    customer = await ui.customer(tenant.portals["desk"]["subdomain"], **PHONE)
    await ui.open_form(customer)
    await customer.get_by_label("Your name").fill("Stella Stars")
    await customer.get_by_label("Describe your problem").fill("The VPN drops every hour.")
    await customer.get_by_role("button", name="Send request").click()
    rhea = await ui.technician(email, password=PASSWORD)
    await expect(customer.get_by_role("heading", name="Chat with Rhea")).to_be_visible(timeout=45_000)

    chat = rhea.locator(".chat", has_text="Stella Stars")
    await chat.get_by_role("button", name="End session").click()
    await chat.get_by_label("Resolved", exact=True).check()
    await chat.locator(".end-form").get_by_role("button", name="End session").click()
    await expect(customer.get_by_role("heading", name="Your support session has ended")).to_be_visible()

    stars = customer.get_by_role("group", name="Your rating (required)")
    await expect(stars.get_by_role("radio")).to_have_count(5)
    await assert_accessible(customer, what="rating form, phone")
    # No score chosen: a clear message, nothing sent.
    await customer.get_by_role("button", name="Send my rating").click()
    await expect(customer.locator(".al-rating").get_by_role("alert")).to_contain_text("Choose from 1 to 5 stars")
    # The keyboard alone: focus the first star, arrow to the fourth.
    await stars.get_by_role("radio", name="1 star out of 5").focus()
    for _ in range(3):
        await customer.keyboard.press("ArrowRight")
    await expect(stars.get_by_role("radio", name="4 stars out of 5")).to_be_checked()
    await customer.get_by_label("Comment (optional)").fill("Rhea fixed it <quickly>")
    await shots.take(customer, "customer-rating-phone")
    await customer.get_by_role("button", name="Send my rating").click()
    await expect(customer.locator(".al-rating").get_by_role("status")).to_contain_text("Thank you for your feedback")
    await expect(customer.get_by_role("button", name="Send my rating")).to_have_count(0)
    await assert_accessible(customer, what="rating thank-you, phone")

    # The technician's Completed list shows it with the session (the comment as text).
    await rhea.reload()
    await expect(rhea.locator("#connection")).to_contain_text("Connected")
    await rhea.get_by_role("tab", name="Completed").click()
    done = rhea.locator("#list-completed li", has_text="Stella Stars")
    await expect(done).to_contain_text("Customer rating: 4 of 5")
    await expect(done).to_contain_text("Rhea fixed it <quickly>")
    await shots.take(rhea, "help-completed-with-rating")

    # What the page showed is what chat-svc stored, and the account's admin reads it too
    # (once per session: see chat-svc's API tests).
    listed = await rhea.request.get("/api/chat/sessions?state=completed", headers=bearer(tenant.admin_token))
    session = next(s for s in (await listed.json())["sessions"] if s["customer_name"] == "Stella Stars")
    assert session["rating"]["score"] == 4 and session["rating"]["comment"] == "Rhea fixed it <quickly>"

    # ChatSessionRated reached portal-svc's dashboard read model over the broker.
    figures_url = f"/api/portal/dashboard/companies/{tenant.companies['desk']}"

    async def counted() -> dict | None:
        response = await rhea.request.get(figures_url, headers=bearer(tenant.admin_token))
        today = (await response.json())["today"]
        return today if today["ratings"] == 1 else None

    today = await eventually(counted, timeout=30, what="the dashboard counted the rating")
    assert today["average_rating"] == 4.0 and today["requests"] == 1
    export = await rhea.request.get(figures_url + ".csv", headers=bearer(tenant.admin_token))
    assert export.status == 200 and (await export.text()).splitlines()[-1].split(",")[-2:] == ["1", "4.0"]
