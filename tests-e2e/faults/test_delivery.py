"""What the bus may do to events: deliver them twice, late, out of order, or deliver garbage."""

import asyncio
import json
import re
import time
import uuid
from typing import Any

import aio_pika
import pytest

from contracts import payload_type
from testkit.actors import Customer
from testkit.amqp import publish_raw
from testkit.faults import (
    Customers,
    DurableTap,
    Ledger,
    Technician,
    Workforce,
    broker_queues,
    consumed,
    dispatch_db,
    provision,
    settle,
)
from testkit.system import SERVICES
from testkit.waiting import eventually

pytestmark = pytest.mark.e2e


async def event_on(tap: DurableTap, event_type: str, timeout: float = 30.0, **data: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        found = tap.of_type(event_type, **data)
        return found[-1] if found else None

    return await eventually(probe, timeout=timeout)


async def republish(tap: DurableTap, message: dict[str, Any], *, fresh_id: bool) -> None:
    """The same event again (a redelivery), or with a new id (a producer that retried).

    The tap is told first, so it only ever reports what the services themselves publish.
    """
    body = {**message, "event_id": str(uuid.uuid4())} if fresh_id else message
    tap.seen.add(body["event_id"])
    await publish_raw(
        tap.url,
        payload_type(body["type"]).routing_key(),
        json.dumps(body).encode(),
        message_id=body["event_id"],
        content_type="application/json",
    )


async def twice(tap: DurableTap, message: dict[str, Any]) -> None:
    await republish(tap, message, fresh_id=False)
    await republish(tap, message, fresh_id=True)


async def slots(system, technician_id: str) -> list[str]:
    client, db = dispatch_db(system)
    try:
        document = await db["technicians"].find_one({"_id": technician_id})
        return (document or {}).get("active", [])
    finally:
        await client.close()


async def end_chat(technician: Technician, customer: Customer) -> None:
    response = await technician.http.post(
        f"/api/chat/sessions/cht_{customer.request_id}/end", json={"outcome": "resolved"}
    )
    assert response.status_code == 200, response.text


async def test_duplicate_and_out_of_order_events_change_nothing(fault_system, report):
    system = fault_system
    gateway, url = system.gateway_url, system.backends.rabbitmq_url
    tenant = await provision(gateway, uuid.uuid4().hex[:8], modes={"queue": 1}, technicians=1, capacity=1)
    subdomain, _ = tenant.portals_of_mode("queue")[0]
    ledger = Ledger(capacity=1)
    technician = Technician(gateway, tenant.logins[0], chat_seconds=0)
    customers = {name: Customer(gateway, subdomain) for name in "abcd"}
    a, b, c, d = customers.values()
    replayed = 0
    try:
        async with DurableTap(url, "#", on_event=ledger.on_event) as tap:
            await technician.start()
            await a.submit()
            await event_on(tap, "ChatSessionStarted", request_id=a.request_id)

            # RequestSubmitted and RequestAssigned delivered again: no second assignment or session.
            for event_type in ("RequestSubmitted", "RequestAssigned"):
                await twice(tap, tap.of_type(event_type, request_id=a.request_id)[0])
                replayed += 2
            await consumed(url)  # the replays were handled: now nothing may have changed
            assert len(tap.of_type("RequestAssigned", request_id=a.request_id)) == 1
            assert len(tap.of_type("ChatSessionStarted", request_id=a.request_id)) == 1

            # A's end delivered again once B holds the only slot: C must keep waiting.
            await end_chat(technician, a)
            ended_a = await event_on(tap, "ChatSessionEnded", request_id=a.request_id)
            await b.submit()
            await event_on(tap, "ChatSessionStarted", request_id=b.request_id)
            await c.submit()
            await event_on(tap, "RequestQueued", request_id=c.request_id)
            await twice(tap, ended_a)
            replayed += 2
            await consumed(url)  # the replays were handled: now nothing may have changed
            assert tap.of_type("RequestAssigned", request_id=c.request_id) == [], "a stale end freed B's slot"
            assert await slots(system, technician.id) == [b.request_id]
            assert (await c.status())["status"] == "queued"

            # B ends; its start and assignment then arrive late (after the end): nothing reopens.
            await end_chat(technician, b)
            await event_on(tap, "ChatSessionStarted", request_id=c.request_id)
            for event_type in ("ChatSessionStarted", "RequestAssigned"):
                await twice(tap, tap.of_type(event_type, request_id=b.request_id)[0])
                replayed += 2
            await consumed(url)  # the replays were handled: now nothing may have changed
            assert (await b.status())["status"] == "ended"
            assert len(tap.of_type("ChatSessionStarted", request_id=b.request_id)) == 1
            assert await slots(system, technician.id) == [c.request_id]
            session_b = await technician.http.get(f"/api/chat/sessions/cht_{b.request_id}")
            assert session_b.json()["session"]["state"] != "active", session_b.text

            # An older "available" after a newer "unavailable" is stale: D waits in the queue.
            await end_chat(technician, c)
            await event_on(tap, "ChatSessionEnded", request_id=c.request_id)
            await technician.set_status("unavailable")
            unavailable = await event_on(tap, "TechnicianUnavailable", technician_id=technician.id)
            older = [
                m
                for m in tap.of_type("TechnicianAvailable", technician_id=technician.id)
                if m["data"]["sequence"] < unavailable["data"]["sequence"]
            ]
            await twice(tap, older[-1])
            replayed += 2
            await consumed(url)
            await d.submit()
            await event_on(tap, "RequestQueued", request_id=d.request_id)
            await consumed(url)  # the replays were handled: now nothing may have changed
            assert tap.of_type("RequestAssigned", request_id=d.request_id) == [], "a stale 'available' was applied"
            await technician.set_status("available")
            await event_on(tap, "ChatSessionStarted", request_id=d.request_id)
            await end_chat(technician, d)
            await event_on(tap, "ChatSessionEnded", request_id=d.request_id)
            assigned = {r for (r, _) in ledger.assignments}
            at_rest = await eventually(lambda: _empty(slots(system, technician.id)), timeout=20)
    finally:
        await technician.close()
        for customer in customers.values():
            await customer.close()
    report(
        f"faults: duplicate and out-of-order delivery — {replayed} events re-published "
        f"(RequestSubmitted/RequestAssigned twice, a stale ChatSessionEnded after a new assignment, "
        f"ChatSessionStarted/RequestAssigned after the end, an older TechnicianAvailable after a newer "
        f"TechnicianUnavailable); 4 submitted, {len(ledger.ended & assigned)} served, "
        f"{len(ledger.doubled())} assigned twice, max chats {ledger.peak()}/1, slots at rest {len(at_rest) - 1}"
    )
    assert ledger.doubled() == [] and ledger.violations == []
    assert {x.request_id for x in customers.values()} <= ledger.ended


async def _empty(probe) -> list[str] | None:
    held = await probe
    # Truthy marker list for `eventually`, one element when nothing is held.
    return None if held else ["at rest"]


POISON = {
    "not-json": lambda marker: b"\xff\xfe{ not json " + marker.encode(),
    "wrong-shape": lambda marker: json.dumps({"hello": "world", "marker": marker}).encode(),
    "bad-data": lambda marker: json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "type": "Whatever",
            "version": 1,
            "occurred_at": "2026-01-01T00:00:00Z",
            "correlation_id": marker,
            "producer": "faults",
            "data": {"request_id": "<script>alert(1)</script>", "sequence": -1},
        }
    ).encode(),
}


async def _drained(url: str, queues: list[str], timeout: float = 30.0) -> dict[str, int]:
    """Service queues still holding ready messages after `timeout` (the broker's counts lag a little)."""
    deadline = time.monotonic() + timeout
    while True:
        counts = {q: n for q, n in (await asyncio.to_thread(broker_queues, url)).items() if q in queues and n}
        if not counts or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(1)


SERVICE_QUEUE = re.compile(r"^(?P<service>[a-z]+-svc)\.(?P<key>[a-z-]+\.[a-z-]+\.v\d+)$")


async def dead_letters(url: str, services: set[str], prefix: str) -> set[tuple[str, str]]:
    """(queue it died in, message id) of every poison of ours in the services' `.dlq`."""
    found = set()
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for service in services:
            queue = await channel.declare_queue(f"{service}.dlq", passive=True)
            while (message := await queue.get(no_ack=False, fail=False)) is not None:
                if (message.message_id or "").startswith(prefix):
                    found.add((str(message.headers.get("x-first-death-queue")), message.message_id))
                    await message.ack()
                else:
                    await message.nack(requeue=True)
                    break
    return found


async def test_poison_messages_on_every_consumed_key_are_dead_lettered(fault_system, report):
    system = fault_system
    url = system.backends.rabbitmq_url
    queues = [q for q in broker_queues(url) if SERVICE_QUEUE.match(q)]
    routing_keys = sorted({SERVICE_QUEUE.match(q)["key"] for q in queues})
    services = {SERVICE_QUEUE.match(q)["service"] for q in queues}
    assert services == set(SERVICES), queues  # every service of the system consumes something
    tenant = await provision(system.gateway_url, uuid.uuid4().hex[:8], modes={"queue": 2}, technicians=3, capacity=2)
    ledger = Ledger(capacity=tenant.capacity)
    customers = Customers(system.gateway_url, tenant, ["queue"])
    workforce = Workforce(system.gateway_url, tenant, ledger)
    prefix = f"poison-{uuid.uuid4().hex[:6]}"
    expected = {(queue, f"{prefix}-{SERVICE_QUEUE.match(queue)['key']}-{kind}") for queue in queues for kind in POISON}
    found: set[tuple[str, str]] = set()
    try:
        async with DurableTap(url, "request.*.*", "chat.*.*", on_event=ledger.on_event):
            await workforce.start()
            started = time.monotonic()
            load = asyncio.create_task(customers.arrive(24, rate=4))
            await asyncio.sleep(2)
            for key in routing_keys:
                for kind, body in POISON.items():
                    marker = f"{prefix}-{key}-{kind}"
                    await publish_raw(url, key, body(marker), message_id=marker, content_type="application/json")
            deadline = time.monotonic() + 30
            while not expected <= found and time.monotonic() < deadline:
                await asyncio.sleep(1)
                found |= await dead_letters(url, services, prefix)
            await load
            verdict = await settle("poison messages during load", system, tenant, ledger, customers, started)
            left = await _drained(url, queues)
    finally:
        await workforce.close()
        await customers.close()
    missing = sorted(expected - found)
    verdict.extra = (
        f"{len(POISON)} kinds x {len(routing_keys)} routing keys published, {len(found & expected)}/{len(expected)} "
        f"dead-lettered from {len(queues)} consumed queues into {len(services)} .dlq; service queues left non-empty: {left}"
    )
    report(verdict.line())
    assert not missing, f"poison not dead-lettered: {missing[:10]}"
    assert not left
    verdict.assert_sound()
