"""Redelivery, poison messages, and repair of what a crashed worker left half done."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest

from contracts import RequestQueued
from dispatch_svc.adapters.technicians import SlotClaim, TechnicianRepository
from dispatch_svc.handlers.clock import now
from servicekit.outbox import LEASE, OUTBOX
from testkit import eventually
from testkit.amqp import publish_raw

from ..support import available, cancelled, ended, envelope, started, submitted, unavailable, unique, updated

pytestmark = pytest.mark.integration


async def test_every_consumed_event_delivered_twice_has_one_effect(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        twice = [envelope(updated("tec_ana", [company], 1, capacity=1)), envelope(available("tec_ana", [company], 1))]
        queue_id, web_id, cancel_id = unique("req_q"), unique("req_w"), unique("req_c")
        twice.append(envelope(submitted(queue_id, company)))
        for event in twice:
            await svc.bus.send(event)
            await svc.bus.send(event, repeat=True)
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == queue_id)
        for event in [envelope(started(queue_id, company, "tec_ana")), envelope(ended(queue_id, company, "tec_ana"))]:
            await svc.bus.send(event)
            await svc.bus.send(event)
        web = envelope(submitted(web_id, company, mode="web", portal_type="smart_box"))
        await svc.bus.send(web)
        await svc.bus.send(web)
        await svc.wait("RequestOffered", lambda d: d["request_id"] == web_id)
        await svc.bus.send(submitted(cancel_id, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == cancel_id)
        cancel = envelope(cancelled(cancel_id, company, "tec_ana"))
        await svc.bus.send(cancel)
        await svc.bus.send(cancel)
        gone = envelope(unavailable("tec_ana", [company], 2))
        await svc.bus.send(gone)
        await svc.bus.send(gone)
        await svc.wait("RequestOfferWithdrawn", lambda d: d["request_id"] == web_id)
        # The barrier: every duplicate was absorbed (the technician's unavailability is last in
        # its queue) and a sweep ran since, filing the finished requests.
        await svc.technician_record("tec_ana", available=False, active=[])
        await svc.handlers.sweeper.tick()

        assert len(svc.events("RequestAssigned", queue_id)) == 1
        assert len(svc.events("RequestOffered", web_id)) == 1
        assert len(svc.events("RequestOfferWithdrawn", cancel_id)) == 1
        assert len(svc.events("RequestOfferWithdrawn", web_id)) == 1
        history = {d["_id"]: d["state"] async for d in svc.db["request_history"].find()}
        assert history == {queue_id: "completed", cancel_id: "cancelled"}
        technician = await svc.db["technicians"].find_one({"_id": "tec_ana"})
        assert technician["active"] == [] and technician["available"] is False

        # A submission delivered again after its request was finished (by a portal sweeper that
        # published it before its writer's clear) does not bring it back.
        await svc.bus.send(twice[2], repeat=True)
        marker = unique("req_marker")  # the same queue, one consumer: absorbed after the duplicate
        await svc.bus.send(submitted(marker, company))
        await svc.wait("RequestQueued", lambda d: d["request_id"] == marker)
        assert len(svc.events("RequestAssigned", queue_id)) == 1
        assert await svc.db["requests"].count_documents({"_id": queue_id}) == 0


async def test_poison_messages_go_to_the_dead_letter_queue(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        url = svc.service.runtime.settings.rabbitmq_url  # the test's own vhost
        await publish_raw(url, "request.submitted.v1", b"{not json")
        await publish_raw(url, "technician.available.v1", json.dumps({"type": "TechnicianAvailable"}).encode())
        request_id = unique("req")
        await svc.bus.send(available("tec_ana", [company], 1))
        await svc.bus.send(submitted(request_id, company))
        await svc.wait("RequestAssigned", lambda d: d["request_id"] == request_id)
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            dlq = await channel.declare_queue("dispatch-svc.dlq", durable=True, passive=True)
            dead: list[bytes] = []
            for _ in range(50):
                message = await dlq.get(fail=False)
                if message:
                    dead.append(message.body)
                    await message.ack()
                elif len(dead) >= 2:
                    break
                else:
                    await asyncio.sleep(0.1)
        assert b"{not json" in dead
        assert any(b'"TechnicianAvailable"' in body for body in dead)


async def test_sweeper_repairs_what_a_crash_left_half_done(dispatch_service):
    company = unique("cmp")
    async with dispatch_service() as svc:
        await svc.bus.send(available("tec_ana", [company], 1, capacity=1))
        await svc.bus.send(available("tec_bob", [company], 1, capacity=1))
        await svc.technician_record("tec_ana", available=True)
        await svc.technician_record("tec_bob", available=True)
        technicians, requests = svc.db["technicians"], svc.db["requests"]
        long_ago = now() - timedelta(seconds=30)
        # Crash after claiming Ana's slot, before claiming the request: the request is new.
        stranded = unique("req_stranded")
        await technicians.update_one(
            {"_id": "tec_ana"}, {"$push": {"active": stranded}, "$set": {f"claimed_at.{stranded}": long_ago}}
        )
        document = submitted(stranded, company).model_dump()
        await requests.insert_one(
            {
                **{k: v for k, v in document.items() if k != "request_id"},
                "_id": stranded,
                "state": "new",
                "rev": 0,
                "queued_since": document["submitted_at"],
                "correlation_id": "corr-crash",
                "offered_to": [],
                "assignment": 0,
                "created_at": long_ago,
            }
        )
        assigned = await svc.wait("RequestAssigned", lambda d: d["request_id"] == stranded)
        assert assigned["assignment"] == 1
        holder = assigned["technician_id"]
        other = "tec_bob" if holder == "tec_ana" else "tec_ana"
        await svc.technician_record(other, active=[])  # the orphaned slot was freed
        assert (await technicians.find_one({"_id": holder}))["active"] == [stranded]

        # Crash after the write, before the publish: the staged event is published by the sweeper.
        staged = unique("req_staged")
        event = svc.service.runtime.event(
            RequestQueued(request_id=staged, account_id="acc_test", company_id=company, position=1, queued_since=now()),
            correlation_id="corr-staged",
        )
        await requests.insert_one(
            {
                "_id": staged,
                "state": "cancelled",
                "rev": 1,
                "company_id": company,
                OUTBOX: [{"_id": str(event.event_id), "type": event.type, "body": event.model_dump(mode="json")}],
                LEASE: long_ago,
            }
        )
        published = await svc.wait("RequestQueued", lambda d: d["request_id"] == staged)
        assert published["position"] == 1
        # Then filed in the history.
        await eventually(lambda: svc.db["request_history"].count_documents({"_id": staged}))
        # Filing writes the history first, then deletes the live document.
        await eventually(lambda: _gone(requests, staged))


async def test_a_stalled_claimer_cannot_free_the_slot_of_a_later_claim(dispatch_service):
    # Worker A claims, stalls; the sweeper frees A's slot; worker B claims the same request
    # again. When A finally gives its claim back, B's slot must stay: else capacity leaks.
    async with dispatch_service() as svc:
        technicians = TechnicianRepository(svc.db["technicians"], default_capacity=1)
        await svc.db["technicians"].insert_one(
            {
                "_id": "tec_slow",
                "enabled": True,
                "capacity": 1,
                "active": [],
                "available": True,
                "company_ids": ["cmp_x"],
            }
        )
        first_at = datetime.now(UTC) - timedelta(seconds=30)
        assert (
            await technicians.claim_slot("tec_slow", "req_x", first_at, company_id="cmp_x", routable=False)
            is SlotClaim.CLAIMED
        )
        await technicians.release_slot("tec_slow", "req_x", claimed_at=first_at)  # the sweeper
        second_at = datetime.now(UTC)
        assert (
            await technicians.claim_slot("tec_slow", "req_x", second_at, company_id="cmp_x", routable=False)
            is SlotClaim.CLAIMED
        )

        await technicians.release_slot("tec_slow", "req_x", claimed_at=first_at)  # A, late
        assert (await svc.db["technicians"].find_one({"_id": "tec_slow"}))["active"] == ["req_x"]
        await technicians.release_slot("tec_slow", "req_x", claimed_at=second_at)  # B's own
        assert (await svc.db["technicians"].find_one({"_id": "tec_slow"}))["active"] == []


async def _gone(collection, document_id: str) -> bool:
    return await collection.count_documents({"_id": document_id}) == 0
