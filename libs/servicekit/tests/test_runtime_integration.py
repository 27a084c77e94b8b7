"""servicekit against the real RabbitMQ and MongoDB-wire server."""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import ClassVar

import aio_pika
import httpx
import pytest

from contracts import Envelope, RequestQueued
from servicekit.broker import MAYBE_REPEAT_HEADER, delivery_may_repeat, subscribe
from servicekit.mongo import STORE_STATS
from servicekit.outbox import AT, BY, LEASE, OUTBOX, PUBLISH_GRACE, Outbox, consume_once, merge_updates
from servicekit.runtime import assemble, create_runtime
from servicekit.settings import ServiceSettings
from testkit.amqp import AmqpTap, publish_raw
from testkit.services import serve_in_process
from testkit.waiting import eventually

pytestmark = pytest.mark.integration


class KitSettings(ServiceSettings):
    service_name: ClassVar[str] = "kit-svc"
    default_port: ClassVar[int] = 0


def queued(request_id: str, position: int = 1) -> RequestQueued:
    return RequestQueued(
        request_id=request_id,
        account_id="acc",
        company_id="cmp",
        position=position,
        queued_since=datetime.now(UTC),
    )


def _staged(event: Envelope) -> dict:
    return {"_id": str(event.event_id), "type": event.type, "body": event.model_dump(mode="json")}


@pytest.fixture
async def kit(real_backends):
    # The batched clear is called by the tests, not by its periodic task.
    settings = real_backends.settings(KitSettings, mongodb_db=f"kit-{uuid.uuid4().hex[:8]}", outbox_clear_seconds=3600)
    runtime = create_runtime(settings, emits=[RequestQueued])
    things = runtime.outbox_collection("things").raw
    seen: list[str] = []

    @subscribe(runtime.broker, runtime.service, RequestQueued)
    async def on_queued(event: Envelope[RequestQueued]) -> None:
        already, absorb = consume_once(event.event_id)
        result = await things.update_one(
            {"_id": "counter", **already}, merge_updates({"$inc": {"n": 1}}, absorb), upsert=False
        )
        if result.modified_count:
            seen.append(event.data.request_id)

    service = assemble(runtime, handlers=None, routers=[], description="servicekit test service")
    async with serve_in_process(service.app) as base_url:
        await things.insert_one({"_id": "counter", "n": 0})
        yield runtime, base_url, seen


async def test_ready_reports_both_backends(kit):
    _, base_url, _ = kit
    async with httpx.AsyncClient() as client:
        ready = (await client.get(base_url + "/api/kit/ready")).json()
        assert ready == {"status": "ready", "checks": {"rabbitmq": "ok", "mongodb": "ok"}}
        assert (await client.get(base_url + "/api/kit/health")).json() == {"status": "ok"}
        asyncapi = (await client.get(base_url + "/api/kit/asyncapi.json")).json()
        assert asyncapi["info"]["title"] == "kit-svc"


async def test_state_and_events_are_written_together_then_published(kit, real_backends):
    runtime, _, _ = kit
    things = runtime.outbox_collection("things")
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        events = [runtime.event(queued("req_a"), correlation_id="corr-a")]
        await things.insert({"_id": "t1", "state": "new"}, events)
        message = await tap.wait_for(lambda m: m["data"]["request_id"] == "req_a")
        assert message["correlation_id"] == "corr-a"
        assert message["producer"] == "kit-svc"
        after = await things.update(
            {"_id": "t1", "state": "new"},
            {"$set": {"state": "queued"}},
            [runtime.event(queued("req_b"), correlation_id="corr-b")],
        )
        assert after == {"_id": "t1", "state": "queued"}
        await tap.wait_for(lambda m: m["data"]["request_id"] == "req_b")
    # Published, then cleared by the batch, lease included: the sweeper has nothing to look at.
    assert await runtime.outbox.clear_published() == 1
    stored = await things.raw.find_one({"_id": "t1"})
    assert OUTBOX not in stored and LEASE not in stored


async def test_published_events_wait_for_one_batched_clear_and_are_never_published_again(kit, real_backends):
    runtime, _, seen = kit
    things = runtime.outbox_collection("things")
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        for document in ("b1", "b2", "b3"):
            await things.insert(
                {"_id": document, "state": "new"}, [runtime.event(queued(f"req_{document}"), correlation_id="c")]
            )
        # A second write of b1 before the clear: its reply still lists b1's first event.
        await things.update(
            {"_id": "b1"}, {"$set": {"state": "queued"}}, [runtime.event(queued("req_b1", 2), correlation_id="c")]
        )
        assert len((await things.raw.find_one({"_id": "b1"}))[OUTBOX]) == 2
        # The kit's own consumer writes too: counted only once it absorbed all four.
        await eventually(lambda: sorted(seen) == ["req_b1", "req_b1", "req_b2", "req_b3"], what="all consumed")
        # Published, waiting for the clear under their writer's lease: nothing for the sweeper.
        assert await runtime.outbox.backlog() == {"things": 0}
        before = STORE_STATS.snapshot()["by_command"].get("update", {"ok": 0})["ok"]
        assert await runtime.outbox.clear_published() == 3
        assert STORE_STATS.snapshot()["by_command"]["update"]["ok"] - before == 1  # for all three documents
        # The barrier: the last event published is in; nothing published twice before it.
        await tap.wait_for(lambda m: m["data"]["request_id"] == "req_b1" and m["data"]["position"] == 2)
        published = [(m["data"]["request_id"], m["data"]["position"]) for m in tap.messages]
    assert sorted(published) == [("req_b1", 1), ("req_b1", 2), ("req_b2", 1), ("req_b3", 1)]
    for document in ("b1", "b2", "b3"):
        stored = await things.raw.find_one({"_id": document})
        assert OUTBOX not in stored and LEASE not in stored
    assert await runtime.outbox.sweep_once() == 0
    assert await runtime.outbox.clear_published() == 0


async def test_a_replica_writing_the_same_document_publishes_only_its_own_events(kit, real_backends):
    """Two replicas write one document within a second (an offer, then an accept on the other
    dispatch worker): the second leaves the first's events, published and awaiting its batched
    clear, to it — no duplicate — and both clears leave the document clean."""
    runtime, _, _ = kit
    mine = runtime.outbox_collection("things")
    other_published: list[Envelope] = []

    async def other_publish(event: Envelope, *, maybe_repeat: bool = False) -> None:
        assert not maybe_repeat  # its own, just staged
        other_published.append(event)

    other = Outbox(other_publish, clear_later=True)
    theirs = other.collection(runtime.db["things"])
    first = runtime.event(queued("req_r", 1), correlation_id="c")
    second = runtime.event(queued("req_r", 2), correlation_id="c")
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        await mine.insert({"_id": "r1", "state": "new"}, [first])
        await tap.wait_for(lambda m: m["event_id"] == str(first.event_id))
        await theirs.update({"_id": "r1"}, {"$set": {"state": "queued"}}, [second])
        assert [e.event_id for e in other_published] == [second.event_id]
        assert len((await mine.raw.find_one({"_id": "r1"}))[OUTBOX]) == 2
        assert await runtime.outbox.clear_published() == 1
        stored = await mine.raw.find_one({"_id": "r1"})
        assert [entry["_id"] for entry in stored[OUTBOX]] == [str(second.event_id)] and LEASE in stored
        assert await other.clear_published() == 1
        stored = await mine.raw.find_one({"_id": "r1"})
        assert OUTBOX not in stored and LEASE not in stored
        # An orphan of a process gone for longer than the grace is published by the next writer,
        # before the writer's own event.
        orphan = runtime.event(queued("req_orphan", 1), correlation_id="c")
        entry = {**_staged(orphan), BY: "gone", AT: datetime.now(UTC) - 2 * PUBLISH_GRACE}
        await mine.raw.update_one({"_id": "r1"}, {"$set": {OUTBOX: [entry], LEASE: datetime.now(UTC) + PUBLISH_GRACE}})
        third = runtime.event(queued("req_orphan", 2), correlation_id="c")
        await mine.update({"_id": "r1"}, {"$set": {"state": "assigned"}}, [third])
        await tap.wait_for(lambda m: m["event_id"] == str(third.event_id))
        order = [m["event_id"] for m in tap.messages if m["data"]["request_id"] == "req_orphan"]
        assert order == [str(orphan.event_id), str(third.event_id)]
        # The orphan may have gone out before its writer died: consumers are told so.
        repeats = {event_id: headers.get(MAYBE_REPEAT_HEADER) for event_id, headers in tap.headers.items()}
        assert repeats[str(orphan.event_id)] is True and repeats[str(third.event_id)] is None
        assert repeats[str(first.event_id)] is None
        # The first replica's event went out once, from it alone.
        assert [m["event_id"] for m in tap.messages].count(str(first.event_id)) == 1
    assert str(second.event_id) not in {m["event_id"] for m in tap.messages}  # only the other replica's broker
    assert await runtime.outbox.clear_published() == 1
    assert OUTBOX not in await mine.raw.find_one({"_id": "r1"})
    assert await runtime.outbox.sweep_once() == 0


async def test_conditional_update_that_loses_stages_nothing(kit):
    runtime, _, _ = kit
    things = runtime.outbox_collection("things")
    await things.insert({"_id": "t2", "state": "assigned"})
    events = [runtime.event(queued("req_lost"), correlation_id="c")]
    assert await things.update({"_id": "t2", "state": "queued"}, {"$set": {"state": "assigned"}}, events) is None
    assert OUTBOX not in await things.raw.find_one({"_id": "t2"})


async def test_events_left_by_a_crash_are_published_by_the_sweeper(kit, real_backends):
    runtime, _, _ = kit
    things = runtime.db["things"]
    # What a process killed right after its write leaves behind: staged, never published.
    event = runtime.event(queued("req_crash"), correlation_id="corr-crash")
    await things.insert_one({"_id": "t3", "state": "queued", OUTBOX: [_staged(event)], LEASE: datetime.now(UTC)})
    assert await runtime.outbox.backlog() == {"things": 1}
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        assert await runtime.outbox.sweep_once() == 1
        message = await tap.wait_for(lambda m: m["data"]["request_id"] == "req_crash")
        assert message["event_id"] == str(event.event_id)
        # The dead writer may have published it already: consumers are told it may repeat.
        assert tap.headers[message["event_id"]][MAYBE_REPEAT_HEADER] is True
    await runtime.outbox.clear_published()
    assert OUTBOX not in await things.find_one({"_id": "t3"})
    assert await runtime.outbox.sweep_once() == 0


async def test_a_handler_knows_whether_a_delivery_may_repeat_an_earlier_one(real_backends):
    """False only for a first delivery: RabbitMQ's redelivery (after a failed attempt) and a
    publication the outbox marked (the sweeper's, a retry) both say it may repeat."""
    settings = real_backends.settings(KitSettings, mongodb_db=f"kit-{uuid.uuid4().hex[:8]}")
    runtime = create_runtime(settings, emits=[RequestQueued])
    seen: list[tuple[str, bool]] = []

    @subscribe(runtime.broker, runtime.service, RequestQueued)
    async def on_queued(event: Envelope[RequestQueued]) -> None:
        seen.append((event.data.request_id, delivery_may_repeat()))
        if event.data.request_id == "fails_once" and len(seen) == 1:
            raise RuntimeError("the first attempt fails: RabbitMQ delivers it again")

    service = assemble(runtime, handlers=None, routers=[], description="servicekit test service")
    async with serve_in_process(service.app):
        url = real_backends.rabbitmq_url
        for request_id, headers in [("fails_once", {}), ("swept", {MAYBE_REPEAT_HEADER: True}), ("first", {})]:
            body = Envelope[RequestQueued].of(queued(request_id), producer="t", correlation_id="c").model_dump_json()
            await publish_raw(url, "request.queued.v1", body.encode(), headers=headers)
        await eventually(lambda: any(r == "first" for r, _ in seen), what="the last one handled")
    assert seen == [("fails_once", False), ("fails_once", True), ("swept", True), ("first", False)]
    assert delivery_may_repeat()  # outside a consumer: assume it may


async def test_redelivered_event_is_handled_once(kit, real_backends):
    runtime, _, seen = kit
    event = Envelope[RequestQueued].of(queued("req_twice"), producer="test", correlation_id="c")
    body = event.model_dump_json().encode()
    for _ in range(3):
        await publish_raw(real_backends.rabbitmq_url, "request.queued.v1", body, message_id=str(event.event_id))
    # Barrier: one queue, one consumer, delivered in order — once the marker is handled,
    # every copy before it has been handled too.
    marker = Envelope[RequestQueued].of(queued("req_marker"), producer="test", correlation_id="m")
    await publish_raw(real_backends.rabbitmq_url, "request.queued.v1", marker.model_dump_json().encode())
    for _ in range(150):
        if "req_marker" in seen:
            break
        await asyncio.sleep(0.1)
    assert "req_marker" in seen
    assert seen.count("req_twice") == 1
    assert (await runtime.db["things"].find_one({"_id": "counter"}))["n"] == 2


async def test_poison_message_goes_to_the_dead_letter_queue(kit, real_backends):
    _runtime, _, seen = kit
    await publish_raw(real_backends.rabbitmq_url, "request.queued.v1", b"{not json")
    await publish_raw(real_backends.rabbitmq_url, "request.queued.v1", json.dumps({"type": "RequestQueued"}).encode())
    good = Envelope[RequestQueued].of(queued("req_after_poison"), producer="t", correlation_id="c")
    await publish_raw(real_backends.rabbitmq_url, "request.queued.v1", good.model_dump_json().encode())
    connection = await aio_pika.connect(real_backends.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        dlq = await channel.declare_queue("kit-svc.dlq", durable=True, passive=True)
        dead: list[bytes] = []
        for _ in range(100):
            message = await dlq.get(fail=False)
            if message:
                dead.append(message.body)
                await message.ack()
            if len(dead) >= 2 and "req_after_poison" in seen:
                break
            await asyncio.sleep(0.1)
    assert b"{not json" in dead
    assert len(dead) == 2
    assert "req_after_poison" in seen  # the consumer survived the poison


async def test_events_of_a_document_keep_their_order_across_a_broker_outage(kit, real_backends):
    """A stale event must never overtake a newer one: after a failed publication, the next
    write publishes the leftovers first, then its own events."""
    runtime, _, _ = kit
    things = runtime.outbox_collection("things")
    real_publish = runtime.outbox._publish
    outage = True

    async def flaky_publish(event, **flags):
        if outage:
            raise aio_pika.exceptions.AMQPConnectionError("broker unreachable")
        await real_publish(event, **flags)

    runtime.outbox._publish = flaky_publish
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        await things.insert({"_id": "t4", "state": "new"}, [runtime.event(queued("req_o", 1), correlation_id="o")])
        # Staged and kept (the sweeper, woken at once, fails too while the outage lasts), and
        # counted as backlog: each failed attempt gives up its lease.
        assert len((await things.raw.find_one({"_id": "t4"}))[OUTBOX]) == 1

        async def in_backlog() -> bool:
            return await runtime.outbox.backlog() == {"things": 1}

        await eventually(in_backlog, timeout=5, what="the failed document counted as backlog")
        outage = False
        await things.update(
            {"_id": "t4"},
            {"$set": {"state": "queued"}},
            [
                runtime.event(queued("req_o", 2), correlation_id="o"),
                runtime.event(queued("req_o", 3), correlation_id="o"),
            ],
        )
        await tap.wait_for(lambda m: m["data"].get("position") == 3)
        positions = [m["data"]["position"] for m in tap.messages if m["data"]["request_id"] == "req_o"]
    # At least once, never out of order: a duplicate may repeat, an older event never follows a newer.
    assert positions == sorted(positions) and sorted(set(positions)) == [1, 2, 3]
    # The one that failed may have reached the broker after all: it goes out as a possible repeat.
    flagged = {m["data"]["position"]: tap.headers[m["event_id"]].get(MAYBE_REPEAT_HEADER) for m in tap.messages}
    assert flagged[1] is True and flagged[2] is None and flagged[3] is None
    await runtime.outbox.clear_published()
    assert OUTBOX not in await things.raw.find_one({"_id": "t4"})


async def test_a_wakeup_after_a_failed_publication_sweeps_at_once(kit, real_backends):
    runtime, _, _ = kit
    things = runtime.outbox_collection("things")
    real_publish = runtime.outbox._publish
    failures = 1

    async def fails_once(event, **flags):
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionError("broker unreachable")
        await real_publish(event, **flags)

    runtime.outbox._publish = fails_once
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        await things.insert({"_id": "t5"}, [runtime.event(queued("req_wake"), correlation_id="w")])
        # The lease of a fresh write would keep an ordinary sweep away for seconds; the
        # service's sweeper (every 2 s here, woken at once) publishes well before that.
        message = await tap.wait_for(lambda m: m["data"]["request_id"] == "req_wake", timeout=3)
        assert message["correlation_id"] == "w"


async def test_a_programming_error_is_raised_not_taken_for_an_outage(kit):
    runtime, _, _ = kit
    things = runtime.outbox_collection("things")

    async def broken(event, **flags):
        raise KeyError("no publisher for this event type")

    runtime.outbox._publish = broken
    with pytest.raises(KeyError):
        await things.insert({"_id": "t6"}, [runtime.event(queued("req_bug"), correlation_id="b")])
    assert not runtime.outbox.wakeup.is_set()


async def test_every_event_carries_the_cloudevents_amqp_properties(kit, real_backends):
    runtime, _, _ = kit
    connection = await aio_pika.connect(real_backends.rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange("assistline.events")
        queue = await channel.declare_queue(exclusive=True)
        await queue.bind(exchange, routing_key="request.queued.*")
        event = runtime.event(queued("req_ce"), correlation_id="ce")
        await runtime.outbox_collection("things").insert({"_id": "t7"}, [event])
        message = await queue.get(timeout=10)
        await message.ack()
    headers = message.headers
    assert headers["cloudEvents:specversion"] == "1.0"
    assert headers["cloudEvents:id"] == str(event.event_id)
    assert headers["cloudEvents:type"] == "com.assistline.RequestQueued.v1"
    assert headers["cloudEvents:source"] == "/assistline/kit-svc"
    assert headers["cloudEvents:subject"] == "req_ce"
    assert headers["cloudEvents:time"] == event.occurred_at.isoformat()
    # Additive: the body is still the envelope.
    assert json.loads(message.body)["event_id"] == str(event.event_id)
