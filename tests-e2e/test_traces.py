"""One submission is one trace: from the portal's HTTP request through dispatch to the chat
opening, across separate processes, RabbitMQ and the outbox.

The system runs with `TRACES_FILE`: every service process appends its finished spans to one
JSON-lines file (`servicekit.tracing.json_lines_exporter`), which the test reads back.
"""

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from contracts import EVENTS_EXCHANGE, ChatSessionStarted, RequestAssigned, RequestSubmitted
from testkit.actors import Customer, HelpCenter, Staff
from testkit.backends import isolated_vhost
from testkit.system import System
from testkit.tenants import PASSWORD, portals_per_mode, provision_tenant
from testkit.waiting import eventually

pytestmark = pytest.mark.e2e

Span = dict[str, Any]


@pytest.fixture(scope="module")
async def traced(real_backends, tmp_path_factory):
    """A system of its own, tracing into a file (the shared e2e system runs with tracing off)."""
    run_dir = tmp_path_factory.mktemp("traced")
    spans = run_dir / "spans.jsonl"
    with isolated_vhost(real_backends.rabbitmq_url, f"assistline-traces-{real_backends.run_id}") as url:
        backends = replace(real_backends, rabbitmq_url=url, run_id=f"{real_backends.run_id}tr")
        system = System(backends, run_dir, env={"TRACES_FILE": str(spans), "LOG_LEVEL": "WARNING"})
        try:
            await system.start()
            yield system, spans
        finally:
            system.stop()


def read_spans(path: Path) -> list[Span]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def submission_trace(path: Path, subdomain: str) -> list[Span] | None:
    """The spans of the one trace rooted at the portal's submission HTTP request, once it
    reaches its last step (portal-svc absorbing ChatSessionStarted); None before."""
    submit_path = f"/api/portal/public/portals/{subdomain}/requests"
    spans = read_spans(path)
    roots = [
        s
        for s in spans
        if s["service"] == "portal-svc"
        and s["kind"] == "SERVER"
        and submit_path in (s["attributes"].get("http.target"), s["attributes"].get("url.path"))
    ]
    if len(roots) != 1:
        return None
    trace = [s for s in spans if s["trace_id"] == roots[0]["trace_id"]]
    started = f"process {ChatSessionStarted.routing_key()}"
    done = any(s["service"] == "portal-svc" and s["name"] == started for s in trace)
    return trace if done else None


def the_one(spans: list[Span], what: str, **match: Any) -> Span:
    found = [s for s in spans if all(s.get(k) == v for k, v in match.items())]
    assert len(found) == 1, f"{what}: {len(found)} spans match {match}: {found}"
    return found[0]


def child(spans: list[Span], parent: Span, *, service: str, kind: str, name: str) -> Span:
    return the_one(
        spans,
        f"{service} {kind} {name!r} under {parent['service']} {parent['name']!r}",
        parent_span_id=parent["span_id"],
        service=service,
        kind=kind,
        name=name,
    )


def assert_messaging(span: Span, *, routing_key: str, operation: str) -> None:
    attributes = span["attributes"]
    assert attributes["messaging.system"] == "rabbitmq"
    assert attributes["messaging.destination.name"] == EVENTS_EXCHANGE
    assert attributes["messaging.rabbitmq.destination.routing_key"] == routing_key
    assert attributes["messaging.operation.type"] == operation
    assert attributes["messaging.message.id"]
    assert attributes["messaging.message.conversation_id"]


async def test_a_phone_submission_is_one_trace_from_portal_through_dispatch_to_the_chat(traced):
    system, path = traced
    tenant = await provision_tenant(
        system.gateway_url, "Traces", companies=portals_per_mode({"phone": 1}), technicians=1
    )
    ((subdomain, company_id),) = tenant.portals_of_mode("phone")
    technician = tenant.technicians["tec0"]
    staff = await Staff.sign_in(system.gateway_url, technician["email"], PASSWORD)
    customer = Customer(system.gateway_url, subdomain)
    try:
        async with HelpCenter(staff) as desk:
            await desk.set_status("available")
            issued = await staff.http.post("/api/dispatch/codes", json={"company_id": company_id})
            assert issued.status_code == 201, issued.text
            assert (await customer.submit(connection_code=issued.json()["code"])).status_code == 201
            await customer.wait_status("chat_open")
            await desk.set_status("unavailable")
    finally:
        await customer.close()
        await staff.close()

    started_key = ChatSessionStarted.routing_key()
    trace = await eventually(
        lambda: submission_trace(path, subdomain), timeout=30, what="the submission's trace reaches the chat opening"
    )

    root = the_one(trace, "the root", parent_span_id=None)
    assert (root["service"], root["kind"], root["attributes"]["http.route"]) == (
        "portal-svc",
        "SERVER",
        "/api/portal/public/portals/{subdomain}/requests",
    )
    # Every span's parent is in the same trace: nothing hangs off a span of another trace.
    ids = {s["span_id"] for s in trace}
    assert all(s["parent_span_id"] in ids for s in trace if s is not root)

    # portal: HTTP request → publish RequestSubmitted (staged in the outbox by the request)
    submitted = RequestSubmitted.routing_key()
    published = child(trace, root, service="portal-svc", kind="PRODUCER", name=f"publish {submitted}")
    assert_messaging(published, routing_key=submitted, operation="send")
    assert published["attributes"]["assistline.event.type"] == "RequestSubmitted"
    # dispatch: consume it → publish RequestAssigned
    consumed = child(trace, published, service="dispatch-svc", kind="CONSUMER", name=f"process {submitted}")
    assert_messaging(consumed, routing_key=submitted, operation="process")
    assert consumed["attributes"]["messaging.message.id"] == published["attributes"]["messaging.message.id"]
    assert consumed["attributes"]["messaging.consumer.group.name"] == "dispatch-svc"
    assigned_key = RequestAssigned.routing_key()
    assigned = child(trace, consumed, service="dispatch-svc", kind="PRODUCER", name=f"publish {assigned_key}")
    assert_messaging(assigned, routing_key=assigned_key, operation="send")
    # chat: consume RequestAssigned → open the session → publish ChatSessionStarted
    opened = child(trace, assigned, service="chat-svc", kind="CONSUMER", name=f"process {assigned_key}")
    assert opened["attributes"]["messaging.message.id"] == assigned["attributes"]["messaging.message.id"]
    started = child(trace, opened, service="chat-svc", kind="PRODUCER", name=f"publish {started_key}")
    assert_messaging(started, routing_key=started_key, operation="send")
    # ... and portal-svc learns the chat is open, still in the same trace.
    shown = child(trace, started, service="portal-svc", kind="CONSUMER", name=f"process {started_key}")
    assert_messaging(shown, routing_key=started_key, operation="process")
    # The other consumers of RequestAssigned continue the trace too.
    assert {s["service"] for s in trace if s["name"] == f"process {assigned_key}"} >= {"chat-svc", "portal-svc"}
    assert all(s["status"] != "ERROR" for s in trace)

    # What must not happen: a step of the chain starting a trace of its own. Each message of
    # the chain was processed in this trace only.
    chain_messages = {s["attributes"]["messaging.message.id"] for s in (published, assigned, started)}
    elsewhere = [
        s
        for s in read_spans(path)
        if s["trace_id"] != root["trace_id"] and s["attributes"].get("messaging.message.id") in chain_messages
    ]
    assert elsewhere == []


async def test_a_web_submission_stays_one_trace_through_the_technicians_accept(traced):
    # The accept is the technician's own HTTP request; dispatch keeps the submission's trace
    # with the request, so RequestAssigned and the chat opening still belong to the submission.
    system, path = traced
    tenant = await provision_tenant(
        system.gateway_url, "TracesWeb", companies=portals_per_mode({"web": 1}), technicians=1
    )
    ((subdomain, _company_id),) = tenant.portals_of_mode("web")
    technician = tenant.technicians["tec0"]
    staff = await Staff.sign_in(system.gateway_url, technician["email"], PASSWORD)
    customer = Customer(system.gateway_url, subdomain)
    try:
        async with HelpCenter(staff) as desk:
            await desk.set_status("available")
            await eventually(lambda: _form_shown(customer), timeout=20, what="the portal offers the form")
            assert (await customer.submit()).status_code == 201
            await desk.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == customer.request_id)
            accepted = await staff.http.post(f"/api/dispatch/requests/{customer.request_id}/accept")
            assert accepted.status_code == 200, accepted.text
            await customer.wait_status("chat_open")
            await desk.set_status("unavailable")
    finally:
        await customer.close()
        await staff.close()

    trace = await eventually(
        lambda: submission_trace(path, subdomain), timeout=30, what="the Web submission's trace reaches the chat"
    )
    assigned_key = RequestAssigned.routing_key()
    (assigned,) = [s for s in trace if s["service"] == "dispatch-svc" and s["name"] == f"publish {assigned_key}"]
    opened = child(trace, assigned, service="chat-svc", kind="CONSUMER", name=f"process {assigned_key}")
    assert opened["attributes"]["messaging.message.id"] == assigned["attributes"]["messaging.message.id"]
    # What must not happen: the assignment published in the accept's trace instead.
    elsewhere = [
        s
        for s in read_spans(path)
        if s["trace_id"] != trace[0]["trace_id"]
        and s["attributes"].get("messaging.message.id") == assigned["attributes"]["messaging.message.id"]
    ]
    assert elsewhere == []


async def _form_shown(customer: Customer) -> bool:
    return (await customer.view())["view"] == "form"
