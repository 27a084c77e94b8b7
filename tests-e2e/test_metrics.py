"""Prometheus metrics after an end-to-end scenario: one Web, one Queue and one Phone request,
each through to the end of its chat, then every service scraped directly (as Prometheus
does: the gateway does not publish /metrics) and the counters checked to have moved by
exactly the right amounts — and the failure counters not at all.

The system is its own (gauges refreshed every second), so no other suite's traffic moves
these counters; the figures are still compared with a scrape taken before the scenario.
"""

from dataclasses import replace

import httpx
import pytest

from testkit.actors import ChatSocket, Customer, HelpCenter, Staff
from testkit.backends import isolated_vhost
from testkit.metrics import Samples, scrape
from testkit.system import System
from testkit.tenants import PASSWORD, portals_per_mode, provision_tenant, wait_known_to_presence
from testkit.waiting import eventually

pytestmark = pytest.mark.e2e

SERVICES = ("portal-svc", "presence-svc", "dispatch-svc", "chat-svc")
MODES = ("web", "queue", "phone")
# Generous: the machine may be busy, and every hop goes through the one-threaded store.
PATIENCE = 45.0
CHAT_ROUTE = "/api/chat/ws/{session_id}"


@pytest.fixture(scope="module")
async def measured(real_backends, tmp_path_factory):
    with isolated_vhost(real_backends.rabbitmq_url, f"assistline-metrics-{real_backends.run_id}") as url:
        backends = replace(real_backends, rabbitmq_url=url, run_id=f"{real_backends.run_id}mx")
        system = System(
            backends,
            tmp_path_factory.mktemp("metrics"),
            env={"METRICS_REFRESH_SECONDS": "1", "LOG_LEVEL": "WARNING", "SEED_DEMO": "false"},
        )
        try:
            await system.start()
            yield system
        finally:
            system.stop()


async def scrape_all(system: System) -> dict[str, Samples]:
    return {name: await scrape(system.service(name).base_url) for name in SERVICES}


async def chat_to_the_end(system: System, customer: Customer, technician: Staff) -> None:
    status = await customer.wait_status("chat_open", timeout=PATIENCE)
    session_id = status["session_id"]
    chat = system.service("chat-svc").base_url
    async with (
        ChatSocket(system.gateway_url, session_id, customer.token) as customer_chat,
        ChatSocket(system.gateway_url, session_id, technician.token) as technician_chat,
    ):
        await customer_chat.say("Hello")
        await technician_chat.wait_for(lambda f: f.get("text") == "Hello", timeout=PATIENCE)

        # Both sockets are open on the one chat replica; the session is active.
        async def open_now() -> bool:
            samples = await scrape(chat)
            return (
                samples.value("assistline_websocket_connections", route=CHAT_ROUTE) == 2
                and samples.value("assistline_chats_active") == 1
            )

        await eventually(open_now, timeout=PATIENCE, what="chat-svc counts both sockets and one active chat")
    ended = await technician.http.post(f"/api/chat/sessions/{session_id}/end", json={"outcome": "resolved"})
    assert ended.status_code == 200, ended.text
    await customer.wait_status("ended", timeout=PATIENCE)


async def test_counters_move_by_exactly_one_scenario_per_mode(measured):
    system = measured
    tenant = await provision_tenant(
        system.gateway_url, "Metrics", companies=portals_per_mode(dict.fromkeys(MODES, 1)), technicians=1
    )
    technician = tenant.technicians["tec0"]
    await wait_known_to_presence(system.gateway_url, technician["token"])
    staff = await Staff.sign_in(system.gateway_url, technician["email"], PASSWORD)
    before = await scrape_all(system)
    customers = {mode: Customer(system.gateway_url, tenant.portals_of_mode(mode)[0][0]) for mode in MODES}
    try:
        async with HelpCenter(staff) as desk:
            await desk.set_status("available")
            presence = await scrape(system.service("presence-svc").base_url)
            assert presence.value("assistline_websocket_connections", route="/api/presence/ws") == 1

            # Web: offered to the technician, who accepts.
            web = customers["web"]
            await eventually(lambda: _view_is(web, "form"), timeout=PATIENCE, what="the Web portal takes requests")
            assert (await web.submit()).status_code == 201
            await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == web.request_id, timeout=PATIENCE)
            accepted = await staff.http.post(f"/api/dispatch/requests/{web.request_id}/accept")
            assert accepted.status_code == 200, accepted.text
            await chat_to_the_end(system, web, staff)

            # Queue: assigned with an alert, acknowledged by the accept.
            queue = customers["queue"]
            assert (await queue.submit()).status_code == 201
            await desk.wait_for(
                lambda f: f["type"] == "alert" and f["request_id"] == queue.request_id, timeout=PATIENCE
            )
            acknowledged = await staff.http.post(f"/api/dispatch/requests/{queue.request_id}/accept")
            assert acknowledged.status_code == 200, acknowledged.text
            await chat_to_the_end(system, queue, staff)

            # Phone: the connection code the technician read out.
            phone = customers["phone"]
            company_id = tenant.portals_of_mode("phone")[0][1]
            issued = await staff.http.post("/api/dispatch/codes", json={"company_id": company_id})
            assert issued.status_code == 201, issued.text
            assert (await phone.submit(connection_code=issued.json()["code"])).status_code == 201
            await chat_to_the_end(system, phone, staff)
            await desk.set_status("unavailable")
    finally:
        for customer in customers.values():
            await customer.close()
        await staff.close()

    # The positive barrier: the last consumer of the chain (dispatch freeing the technician's
    # capacity on ChatSessionEnded) has handled all three, and the gauges went back to zero.
    async def settled() -> dict[str, Samples] | None:
        after = await scrape_all(system)
        dispatch, chat = after["dispatch-svc"], after["chat-svc"]
        ended = dispatch.since(
            before["dispatch-svc"], "assistline_events_consumed_total", event_type="ChatSessionEnded", outcome="ack"
        )
        idle = (
            chat.value("assistline_chats_active") == 0
            and chat.value("assistline_websocket_connections", route=CHAT_ROUTE) == 0
            and not any(dispatch.matching("assistline_requests_waiting").values())
        )
        return after if ended >= 3 and idle else None

    after = await eventually(
        settled, timeout=PATIENCE, what="every chat's end is absorbed and the gauges are back to zero"
    )
    portal, dispatch, chat = after["portal-svc"], after["dispatch-svc"], after["chat-svc"]

    def moved(service: str, name: str, **labels: str) -> float:
        return after[service].since(before[service], name, **labels)

    for mode in MODES:
        assert moved("portal-svc", "assistline_requests_submitted_total", mode=mode) == 1, mode
        assert moved("dispatch-svc", "assistline_requests_assigned_total", mode=mode) == 1, mode
        assert moved("dispatch-svc", "assistline_request_submit_to_assigned_seconds_count", mode=mode) == 1, mode
    assert moved("dispatch-svc", "assistline_events_published_total", event_type="RequestAssigned") == 3
    # Only Web offers; Web's accept takes the offer, Queue's acknowledges the assignment.
    assert moved("dispatch-svc", "assistline_request_submit_to_offered_seconds_count", mode="web") == 1
    assert moved("dispatch-svc", "assistline_request_submit_to_offered_seconds_count", mode="queue") == 0
    assert moved("dispatch-svc", "assistline_request_accept_seconds_count", mode="web") == 1
    assert moved("dispatch-svc", "assistline_request_accept_seconds_count", mode="queue") == 1
    assert moved("dispatch-svc", "assistline_request_accept_seconds_count", mode="phone") == 0
    route = "/api/dispatch/requests/{request_id}/accept"
    assert moved("dispatch-svc", "assistline_http_requests_total", method="POST", route=route, status_class="2xx") == 2
    # Nothing expired, lapsed or was rejected.
    assert moved("dispatch-svc", "assistline_offers_expired_total") == 0
    assert moved("dispatch-svc", "assistline_assignments_lapsed_total") == 0
    assert not any(dispatch.matching("assistline_requests_rejected_total").values())

    assert moved("chat-svc", "assistline_chats_started_total") == 3
    assert moved("chat-svc", "assistline_chats_ended_total", ended_by="technician", outcome="resolved") == 3
    assert moved("chat-svc", "assistline_events_consumed_total", event_type="RequestAssigned", outcome="ack") == 3
    assert moved("dispatch-svc", "assistline_events_consumed_total", event_type="RequestSubmitted", outcome="ack") == 3
    assert moved("dispatch-svc", "assistline_events_consumed_total", event_type="ChatSessionEnded", outcome="ack") == 3
    assert moved("portal-svc", "assistline_events_consumed_total", event_type="ChatSessionStarted", outcome="ack") == 3
    assert portal.value("assistline_events_published_total", event_type="RequestSubmitted") >= 3

    # What must not happen anywhere: a message redelivered or dead-lettered, a failed publish.
    for service in SERVICES:
        samples = after[service]
        for outcome in ("nack", "reject"):
            assert not any(samples.matching("assistline_events_consumed_total", outcome=outcome).values()), service
        assert samples.value("assistline_outbox_publish_failures_total") == 0, service
        # Read (the periodic refresh ran), and empty.
        assert samples.matching("assistline_dlq_messages") == {(("queue", f"{service}.dlq"),): 0}, service
        assert not any(samples.matching("assistline_outbox_backlog_documents").values()), service
        assert not any(samples.matching("assistline_http_requests_total", status_class="5xx").values()), service
    assert chat.value("assistline_chats_active") == 0


async def test_the_gateway_does_not_publish_metrics(measured):
    system = measured
    async with httpx.AsyncClient(base_url=system.gateway_url) as client:
        for path in ("/metrics", "/api/portal/metrics", "/api/chat/metrics"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "assistline_" not in response.text
    # ... while each process answers Prometheus on its own address.
    for name in SERVICES:
        samples = await scrape(system.service(name).base_url)
        assert "assistline_http_requests_total" in samples.names(), name


async def _view_is(customer: Customer, view: str) -> bool:
    return (await customer.view())["view"] == view
