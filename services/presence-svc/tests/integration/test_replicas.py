"""presence-svc on two replicas sharing one database and one vhost: replica A in process,
replica B as its own OS process (so it can die by SIGKILL, nothing cleaned up).

Connections are per-replica leases on the technician; frames travel through the live
fan-out; every availability change is published once whichever replica notices it.
"""

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from presence_support.helpers import (
    HEARTBEAT_TIMEOUT,
    known,
    offer,
    open_help_center,
    portal,
    publish,
    tech_token,
    technician,
    uid,
)
from presence_support.instance import Presence

from contracts import Envelope, RequestOffered
from presence_svc.config import Settings
from testkit import bearer, eventually
from testkit.amqp import AmqpTap
from testkit.services import ServiceProcess, wait_ready

pytestmark = pytest.mark.integration

LEASE = 3.0
"""Renewed every third of it: long enough that a renewal late on a loaded machine (CI ran this
with a 1.5 s lease and saw B's technician expire while B was alive) is not a lapse."""
GRACE = 3.0
"""Longer than a third of the lease: a tab reopened one lease after B died (B's lease has
surely run out, having been renewed at most a third of it before) is still within it."""


@pytest.fixture
async def replicas(real_backends, smtp_sink):
    database = f"presence-replicas-{uuid.uuid4().hex[:8]}"
    settings = real_backends.settings(
        Settings,
        mongodb_db=database,
        presence_grace_seconds=GRACE,
        presence_lease_seconds=LEASE,
        heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT,
        smtp_port=smtp_sink.port,
        outbox_sweep_seconds=0.5,
    )
    a = Presence(real_backends.rabbitmq_url, settings)
    await a.start()
    b = ServiceProcess(
        "presence_svc",
        {
            **real_backends.env("presence-svc"),
            "MONGODB_DB": database,
            "PRESENCE_GRACE_SECONDS": str(GRACE),
            "PRESENCE_LEASE_SECONDS": str(LEASE),
            "HEARTBEAT_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT),
            "SMTP_PORT": str(smtp_sink.port),
            "OUTBOX_SWEEP_SECONDS": "0.5",
        },
    )
    b.start()
    try:
        await wait_ready(b.base_url, "/api/presence/ready")
        yield a, b
    finally:
        b.kill()
        await a.stop()


async def available(client, base_url: str, rabbitmq_url: str, company: str) -> tuple[str, str]:
    tech = uid("tec")
    token = tech_token(tech, [company])
    await publish(rabbitmq_url, technician(tech, [company]))
    await known(client, base_url, token)
    response = await client.put(
        base_url + "/api/presence/me/status", json={"status": "available"}, headers=bearer(token)
    )
    assert response.status_code == 200
    return tech, token


def events_of(tap, technician_id: str) -> list[str]:
    return [m["type"] for m in tap.messages if m["data"]["technician_id"] == technician_id]


async def test_frames_cross_replicas_and_a_killed_replica_loses_only_its_technicians(replicas, client, real_backends):
    a, b = replicas
    rabbitmq_url = real_backends.rabbitmq_url
    company = uid("cmp")
    await publish(rabbitmq_url, portal(company))
    async with AmqpTap(rabbitmq_url, "technician.available.*", "technician.unavailable.*") as tap:
        on_a, on_a_token = await available(client, a.base_url, rabbitmq_url, company)
        dies, dies_token = await available(client, a.base_url, rabbitmq_url, company)
        moves, moves_token = await available(client, b.base_url, rabbitmq_url, company)
        revoked, revoked_token = await available(client, a.base_url, rabbitmq_url, company)
        tab_a = await open_help_center(a.base_url, on_a_token)
        tab_dies = await open_help_center(b.base_url, dies_token)
        tab_moves = await open_help_center(b.base_url, moves_token)
        tab_revoked = await open_help_center(b.base_url, revoked_token)
        for tech in (on_a, dies, moves, revoked):
            await tap.wait_for(
                lambda m, tech=tech: m["type"] == "TechnicianAvailable" and m["data"]["technician_id"] == tech
            )
        # B renews its leases: once the first one would have run out, a tick on A (its own
        # barrier) still finds everyone live.
        technicians = a.handlers.presence.technicians.collection
        first = await technicians.find_one({"_id": dies})
        (replica_b,) = first["leases"]
        first_until = first["leases"][replica_b]["until"]

        async def renewed() -> bool:
            doc = await technicians.find_one({"_id": dies})
            return doc["leases"][replica_b]["until"] > first_until and datetime.now(UTC) > first_until

        await eventually(renewed, timeout=10, what="B renewed its lease past the first one's end")
        await a.handlers.presence.expire_graces()
        assert events_of(tap, dies) == ["TechnicianAvailable"]

        # A status change made on A reaches the tab on B.
        response = await client.put(
            a.base_url + "/api/presence/me/status", json={"status": "unavailable"}, headers=bearer(revoked_token)
        )
        assert response.status_code == 200
        await tab_revoked.wait_for(lambda f: f["type"] == "status" and f["status"] == "unavailable")

        # Both replicas count the sockets of each other (a lease renewed late under load
        # counts again once renewed: the count is eventually one, never two).
        for base_url, token in ((a.base_url, dies_token), (b.base_url, on_a_token)):

            async def counted(base_url: str = base_url, token: str = token) -> int:
                return (await known(client, base_url, token))["connections"]

            assert await eventually(counted, timeout=10, what="the other replica's socket counted") == 1

        # An alert produced on replica A reaches the socket held by replica B...
        made_on_a = offer(uid("req"), company, [dies])
        await a.handlers.alerts.offered(
            Envelope[RequestOffered].of(made_on_a, producer="test", correlation_id=uid("corr"))
        )
        await tab_dies.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == made_on_a.request_id)
        # ...and so does one from the broker, whichever replica consumed it.
        consumed = offer(uid("req"), company, [dies, on_a])
        await publish(rabbitmq_url, consumed)
        for tab in (tab_dies, tab_a):
            await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == consumed.request_id)

        # Revoking access on replica A closes the technician's socket on replica B.
        await a.handlers.technicians.updated(technician(revoked, [company], revision=2, enabled=False), uid("corr"))
        code, reason = await tab_revoked.wait_closed()
        assert (code, reason) == (4403, "access revoked")

        # B dies: nothing is cleaned up, its leases just run out.
        killed_at = time.monotonic()
        b.kill()
        await tab_dies.wait_closed()
        await tab_moves.wait_closed()
        await asyncio.sleep(LEASE)  # B's leases are over by now: only the grace period is left
        tab_moved = await open_help_center(a.base_url, moves_token)
        gone = await tap.wait_for(
            lambda m: m["type"] == "TechnicianUnavailable" and m["data"]["technician_id"] == dies, timeout=15
        )
        waited = time.monotonic() - killed_at
        assert gone["data"]["reason"] == "disconnected"
        assert waited >= GRACE + LEASE / 2, waited  # the lease counted, then the grace period

        # Positive barrier: one more tick on A (B is gone) acted on whatever had expired.
        await a.handlers.presence.expire_graces()
        assert events_of(tap, dies) == ["TechnicianAvailable", "TechnicianUnavailable"]  # once, not per replica
        assert events_of(tap, on_a) == ["TechnicianAvailable"]
        assert events_of(tap, moves) == ["TechnicianAvailable"]  # reconnected within grace: no flap
        me = await known(client, a.base_url, moves_token)
        assert me["available"] is True and me["connections"] == 1

        later = offer(uid("req"), company, [moves, on_a])
        await publish(rabbitmq_url, later)
        for tab in (tab_moved, tab_a):
            await tab.wait_for(lambda f: f["type"] == "alert" and f["request_id"] == later.request_id)
        await tab_moved.close()
        await tab_a.close()
