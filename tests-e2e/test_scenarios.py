"""The product's scenarios, from portal creation to the end of the chat, through the gateway.

Each scenario creates its own company and portal, so scenarios do not see each other's
technicians or requests. Everything runs as separate processes against the real broker and
the MongoDB-wire server; an external AMQP subscriber checks what other systems would see.
"""

import uuid

import pytest

from contracts import Envelope, RequestAssigned
from testkit.actors import ChatSocket, Customer, HelpCenter, Staff
from testkit.amqp import AmqpTap
from testkit.http import bearer
from testkit.waiting import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture
async def admin(system):
    staff = await Staff.sign_in(system.gateway_url, "admin@acme.test")
    yield staff
    await staff.close()


@pytest.fixture
async def technicians(system):
    ana = await Staff.sign_in(system.gateway_url, "ana@acme.test")
    ben = await Staff.sign_in(system.gateway_url, "ben@acme.test")
    yield ana, ben
    await ana.close()
    await ben.close()


async def new_portal(admin: Staff, mode: str, portal_type: str, *, staff: list[Staff]) -> tuple[str, str]:
    """A company with a portal, and the given technicians given access to it."""
    tag = uuid.uuid4().hex[:8]
    company = await admin.http.post("/api/portal/companies", json={"name": f"Company {tag}"})
    assert company.status_code == 201, company.text
    company_id = company.json()["company_id"]
    subdomain = f"{mode}-{tag}"
    portal = await admin.http.post(
        "/api/portal/portals",
        json={"company_id": company_id, "subdomain": subdomain, "mode": mode, "portal_type": portal_type},
    )
    assert portal.status_code == 201, portal.text
    listing = {t["technician_id"]: t for t in (await admin.http.get("/api/portal/technicians")).json()}
    for technician in staff:
        companies = sorted({*listing[technician.id]["company_ids"], company_id})
        response = await admin.http.patch(f"/api/portal/technicians/{technician.id}", json={"company_ids": companies})
        assert response.status_code == 200, response.text
    return subdomain, company_id


async def chat_to_the_end(system, customer: Customer, technician: Staff) -> None:
    status = await customer.wait_status("chat_open")
    session_id = status["session_id"]
    async with (
        ChatSocket(system.gateway_url, session_id, customer.token) as customer_chat,
        ChatSocket(system.gateway_url, session_id, technician.token) as technician_chat,
    ):
        await customer_chat.say("Hello, my screen stays black")
        await technician_chat.wait_for(lambda f: f.get("text") == "Hello, my screen stays black")
        await technician_chat.say("Try holding the power button for ten seconds")
        await customer_chat.wait_for(lambda f: f.get("text") == "Try holding the power button for ten seconds")
    ended = await technician.http.post(
        f"/api/chat/sessions/{session_id}/end", json={"outcome": "resolved", "notes": "power cycle"}
    )
    assert ended.status_code == 200, ended.text
    await customer.wait_status("ended")
    transcript = await customer.http.get(f"/api/chat/sessions/{session_id}/transcript", headers=bearer(customer.token))
    assert transcript.status_code == 200
    assert "Try holding the power button for ten seconds" in transcript.text


async def test_web_smartbox_broadcast_first_accept_wins(system, admin, technicians):
    ana, ben = technicians
    subdomain, company_id = await new_portal(admin, "web", "smart_box", staff=[ana, ben])
    ana, ben = await ana.signed_in_again(), await ben.signed_in_again()
    customer = Customer(system.gateway_url, subdomain)
    assert (await customer.view())["view"] == "no_technician"

    async with (
        HelpCenter(ana) as ana_desk,
        HelpCenter(ben) as ben_desk,
        AmqpTap(system.backends.rabbitmq_url, "request.assigned.*") as external,
    ):
        await ana_desk.set_status("available")
        await ben_desk.set_status("available")
        await eventually(lambda: _view_is(customer, "form"))

        assert (await customer.submit()).status_code == 201
        await ana_desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == customer.request_id)
        await ben_desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == customer.request_id)

        first = await ana.http.post(f"/api/dispatch/requests/{customer.request_id}/accept")
        second = await ben.http.post(f"/api/dispatch/requests/{customer.request_id}/accept")
        assert first.status_code == 200, first.text
        assert second.status_code == 409
        assert second.json()["error"]
        await ben_desk.wait_for(lambda f: f["type"] == "alert_withdrawn" and f["request_id"] == customer.request_id)

        assigned = await external.wait_for(lambda m: m["data"]["request_id"] == customer.request_id)
        event = Envelope[RequestAssigned].model_validate(assigned)
        assert (event.data.technician_id, event.data.company_id) == (ana.id, company_id)
        assert event.data.alert is False
        await chat_to_the_end(system, customer, ana)
        await ana_desk.set_status("unavailable")
        await ben_desk.set_status("unavailable")
    # Other tests' requests may be assigned meanwhile on this shared system: count this one's.
    mine = [m for m in external.of_type("RequestAssigned") if m["data"]["request_id"] == customer.request_id]
    assert len(mine) == 1, mine


async def test_phone_smartpin_code_connects_to_that_technician_only(system, admin, technicians):
    ana, _ = technicians
    subdomain, company_id = await new_portal(admin, "phone", "smart_pin", staff=[ana])
    ana = await ana.signed_in_again()
    customer = Customer(system.gateway_url, subdomain)
    assert (await customer.view())["view"] == "code_entry"

    async with HelpCenter(ana) as desk:
        await desk.set_status("available")
        issued = await ana.http.post("/api/dispatch/codes", json={"company_id": company_id})
        assert issued.status_code == 201, issued.text
        code = issued.json()["code"]
        assert len(code) == 9 and code.isdigit()

        wrong = Customer(system.gateway_url, subdomain)
        bad_code = "000000000" if code != "000000000" else "111111111"
        assert (await wrong.submit(connection_code=bad_code)).status_code == 201
        rejected = await wrong.wait_status("rejected")
        assert rejected["reason"] == "invalid_code"

        assert (await customer.submit(connection_code=code)).status_code == 201
        status = await customer.wait_status("assigned", "chat_open")
        assert status["technician"]["technician_id"] == ana.id
        # The technician expects the call: no alert in Phone mode.
        assert desk.alerts_for(customer.request_id) == []

        reused = Customer(system.gateway_url, subdomain)
        assert (await reused.submit(connection_code=code)).status_code == 201
        assert (await reused.wait_status("rejected"))["reason"] == "used_code"

        await chat_to_the_end(system, customer, ana)
        await desk.set_status("unavailable")


async def test_queue_waits_fifo_then_serves_the_technician_who_becomes_available(system, admin, technicians):
    ana, _ = technicians
    subdomain, _ = await new_portal(admin, "queue", "smart_box", staff=[ana])
    ana = await ana.signed_in_again()
    first, second = Customer(system.gateway_url, subdomain), Customer(system.gateway_url, subdomain)
    assert (await first.view())["view"] == "form"  # Queue mode takes requests with nobody available

    assert (await first.submit(customer_name="First")).status_code == 201
    assert (await first.wait_status("queued"))["position"] == 1
    assert (await second.submit(customer_name="Second")).status_code == 201
    assert (await second.wait_status("queued"))["position"] == 2

    async with HelpCenter(ana) as desk:
        await desk.set_status("available")
        alert = await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == first.request_id)
        assert alert["kind"] == "assigned"
        acknowledged = await ana.http.post(f"/api/dispatch/requests/{first.request_id}/accept")
        assert acknowledged.status_code == 200, acknowledged.text
        await chat_to_the_end(system, first, ana)

        await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == second.request_id)
        assert (await ana.http.post(f"/api/dispatch/requests/{second.request_id}/accept")).status_code == 200
        await chat_to_the_end(system, second, ana)
        await desk.set_status("unavailable")


async def test_inactive_portal_shows_service_unavailable_whatever_the_technicians(system, admin, technicians):
    ana, _ = technicians
    subdomain, _ = await new_portal(admin, "web", "smart_button", staff=[ana])
    ana = await ana.signed_in_again()
    portal_id = next(
        p["portal_id"] for p in (await admin.http.get("/api/portal/portals")).json() if p["subdomain"] == subdomain
    )
    async with HelpCenter(ana) as desk:
        await desk.set_status("available")
        customer = Customer(system.gateway_url, subdomain)
        await eventually(lambda: _view_is(customer, "form"))
        assert (await admin.http.post(f"/api/portal/portals/{portal_id}/deactivate")).status_code == 200
        view = await customer.view()
        assert view["view"] == "unavailable"
        assert "temporary inconvenience" in view["message"]
        page = await customer.http.get(f"/p/{subdomain}")
        assert "temporary inconvenience" in page.text
        refused = await customer.submit()
        assert refused.status_code in (409, 422, 403), refused.text
        await desk.set_status("unavailable")


async def _view_is(customer: Customer, view: str) -> bool:
    return (await customer.view())["view"] == view
