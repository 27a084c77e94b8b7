"""Infrastructure outages under load: the broker drops every connection, the store restarts.

Each test ends with every accepted request served exactly once, no technician above
capacity, and every service ready again on its own.
"""

import asyncio
import time
import uuid

import httpx
import pytest

from testkit.faults import (
    Customers,
    DurableTap,
    Ledger,
    Workforce,
    drop_broker_connections,
    provision,
    settle,
)

pytestmark = pytest.mark.e2e


async def test_broker_connections_dropped_during_queue_load(fault_system, report):
    system = fault_system
    url = system.backends.rabbitmq_url
    tenant = await provision(system.gateway_url, uuid.uuid4().hex[:8], modes={"queue": 2}, technicians=4, capacity=3)
    ledger = Ledger(capacity=tenant.capacity)
    customers = Customers(system.gateway_url, tenant, ["queue"])
    workforce = Workforce(system.gateway_url, tenant, ledger)
    try:
        async with DurableTap(url, "#", on_event=ledger.on_event):
            await workforce.start()
            started = time.monotonic()
            load = asyncio.create_task(customers.arrive(40, rate=4))
            dropped = []
            for _ in range(2):
                await asyncio.sleep(4)
                dropped.append(await asyncio.to_thread(drop_broker_connections, url, "faults: broker outage"))
            await load
            verdict = await settle(
                "broker outage (connections dropped twice)",
                system,
                tenant,
                ledger,
                customers,
                started,
                extra=f"AMQP connections dropped: {' then '.join(map(str, dropped))}, all services ready again",
            )
    finally:
        await workforce.close()
        await customers.close()
    report(verdict.line())
    assert all(dropped), "the outage did not hit any connection"
    verdict.assert_sound()


async def test_mongodb_wire_server_restarted_mid_flow(fault_system, report):
    system = fault_system
    mongo = system.backends.embedded_mongo
    if mongo is None:
        pytest.skip("this run uses an external MongoDB (MONGODB_URL): restarting it is not the suite's to do")
    tenant = await provision(system.gateway_url, uuid.uuid4().hex[:8], modes={"queue": 1}, technicians=3, capacity=2)
    ledger = Ledger(capacity=tenant.capacity)
    customers = Customers(system.gateway_url, tenant, ["queue"])
    workforce = Workforce(system.gateway_url, tenant, ledger)
    try:
        async with DurableTap(system.backends.rabbitmq_url, "#", on_event=ledger.on_event):
            await workforce.start()
            started = time.monotonic()
            load = asyncio.create_task(customers.arrive(30, rate=3))
            await asyncio.sleep(4)
            before = len(customers.accepted)
            await asyncio.to_thread(mongo.stop)
            async with httpx.AsyncClient(base_url=system.gateway_url, timeout=10) as client:
                down = await client.get("/api/portal/ready")
            await asyncio.sleep(3)
            await asyncio.to_thread(mongo.start)
            await load
            verdict = await settle(
                "MongoDB-wire server stopped 3s and restarted",
                system,
                tenant,
                ledger,
                customers,
                started,
                extra=f"{before} accepted before the restart; portal /ready while down: {down.status_code}",
            )
    finally:
        await workforce.close()
        await customers.close()
    report(verdict.line())
    assert down.status_code == 503 and "mongodb" in down.text
    verdict.assert_sound()
