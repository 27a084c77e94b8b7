"""Processes killed with SIGKILL mid-flow: a dispatch worker under load, chat-svc mid-chat."""

import asyncio
import contextlib
import time
import uuid

import pytest

from testkit.actors import ChatSocket, Customer
from testkit.faults import (
    Customers,
    DurableTap,
    Ledger,
    Technician,
    Workforce,
    all_ready,
    dispatch_db,
    provision,
    settle,
)
from testkit.http import bearer
from testkit.waiting import NotReached, eventually

pytestmark = pytest.mark.e2e


async def staged_events(system) -> dict[str, str]:
    """Event id -> type of every event dispatch-svc stored but has not published yet."""
    client, db = dispatch_db(system)
    try:
        staged = {}
        for collection in ("requests", "codes"):
            async for document in db[collection].find({"_outbox.0": {"$exists": True}}, projection={"_outbox": 1}):
                staged |= {entry["_id"]: entry["type"] for entry in document["_outbox"]}
        return staged
    finally:
        await client.close()


async def test_dispatch_worker_killed_mid_load(fault_system, report):
    system = fault_system
    tenant = await provision(
        system.gateway_url, uuid.uuid4().hex[:8], modes={"queue": 1, "web": 1}, technicians=4, capacity=3
    )
    ledger = Ledger(capacity=tenant.capacity)
    customers = Customers(system.gateway_url, tenant, ["queue", "web"])
    workforce = Workforce(system.gateway_url, tenant, ledger)
    orphans: dict[str, str] = {}
    try:
        async with DurableTap(system.backends.rabbitmq_url, "#", on_event=ledger.on_event) as tap:
            await workforce.start()
            started = time.monotonic()
            load = asyncio.create_task(customers.arrive(40, rate=4))
            # Each worker in turn dies mid-load; the survivor carries on, the restarted one rejoins.
            for index in (1, 0):
                await asyncio.sleep(3)
                worker = system.service("dispatch-svc", index)
                worker.kill()
                # What the dead worker stored but never published: still staged a moment later,
                # when the live worker has long flushed its own writes.
                first = await staged_events(system)
                await asyncio.sleep(1.5)
                orphans |= {k: v for k, v in (await staged_events(system)).items() if k in first}
                await asyncio.sleep(1.5)
                worker.start()
            await load
            verdict = await settle(
                "dispatch worker kill -9 (each of the two in turn)", system, tenant, ledger, customers, started
            )
            # The sweeper takes an orphan once its lease lapses (PUBLISH_GRACE) on its next tick
            # (OUTBOX_SWEEP_SECONDS): that may come after the last customer was served.
            with contextlib.suppress(NotReached):
                await eventually(lambda: set(orphans) <= tap.seen, timeout=30, what="orphans published")
            unpublished = sorted(set(orphans) - tap.seen)
            verdict.extra = (
                f"{len(orphans)} events left staged by a killed worker "
                f"({', '.join(sorted(set(orphans.values()))) or 'none caught this run'}), "
                f"{len(orphans) - len(unpublished)} published by the outbox sweeper"
            )
    finally:
        await workforce.close()
        await customers.close()
    report(verdict.line())
    verdict.assert_sound()
    assert not unpublished, f"events staged by the killed worker never published: {unpublished}"


async def test_chat_svc_killed_mid_chat(fault_system, report):
    system = fault_system
    gateway = system.gateway_url
    tenant = await provision(gateway, uuid.uuid4().hex[:8], modes={"queue": 1}, technicians=1, capacity=1)
    subdomain, _ = tenant.portals_of_mode("queue")[0]
    technician = Technician(gateway, tenant.logins[0], chat_seconds=0)
    first, second = Customer(gateway, subdomain), Customer(gateway, subdomain)
    try:
        await technician.start()
        assert (await first.submit()).status_code == 201
        session_id = (await first.wait_status("chat_open", timeout=30))["session_id"]
        before = ["My screen stays black", "Did you try restarting?", "Yes, twice"]
        async with (
            ChatSocket(gateway, session_id, first.token) as customer_chat,
            ChatSocket(gateway, session_id, technician.token) as technician_chat,
        ):
            for index, text in enumerate(before):
                speaker, listener = (
                    (customer_chat, technician_chat) if index % 2 == 0 else (technician_chat, customer_chat)
                )
                await speaker.say(text)
                await listener.wait_for(lambda f, text=text: f.get("text") == text)

            chat = system.service("chat-svc")
            chat.kill()
            chat.start()
            await all_ready(system)

        # Both sides come back: the session still exists and replays what was said before.
        async with (
            ChatSocket(gateway, session_id, first.token) as customer_chat,
            ChatSocket(gateway, session_id, technician.token) as technician_chat,
        ):
            await customer_chat.wait_for(lambda f: f.get("text") == before[-1])
            await technician_chat.wait_for(lambda f: f.get("text") == before[-1])
            replayed = [t for t in before if t in customer_chat.texts() and t in technician_chat.texts()]
            await technician_chat.say("Hold the power button ten seconds")
            await customer_chat.wait_for(lambda f: f.get("text") == "Hold the power button ten seconds")

        ended = await technician.http.post(f"/api/chat/sessions/{session_id}/end", json={"outcome": "resolved"})
        assert ended.status_code == 200, ended.text
        await first.wait_status("ended", timeout=30)
        transcript = await first.http.get(f"/api/chat/sessions/{session_id}/transcript", headers=bearer(first.token))
        # The capacity-1 technician is free again: the next customer gets them.
        assert (await second.submit()).status_code == 201
        status = await second.wait_status("chat_open", timeout=30)
        assert status["technician"]["technician_id"] == technician.id
        next_session = status["session_id"]
        assert (
            await technician.http.post(f"/api/chat/sessions/{next_session}/end", json={"outcome": "resolved"})
        ).status_code == 200
        await second.wait_status("ended", timeout=30)
    finally:
        await technician.close()
        await first.close()
        await second.close()
    report(
        f"faults: chat-svc kill -9 mid-chat — session kept, {len(replayed)}/{len(before)} messages said before the "
        f"kill replayed to both sides after reconnect, chat went on, ended (200), capacity 1/1 freed: next request "
        f"assigned to the same technician and ended"
    )
    assert replayed == before
    assert all(text in transcript.text for text in before)
