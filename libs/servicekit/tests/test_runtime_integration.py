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
from servicekit.broker import subscribe
from servicekit.outbox import LEASE, OUTBOX, consume_once, merge_updates
from servicekit.runtime import build_app, create_runtime
from servicekit.settings import ServiceSettings
from testkit.amqp import AmqpTap, publish_raw
from testkit.services import serve_in_process

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


@pytest.fixture
async def kit(real_backends):
    settings = real_backends.settings(KitSettings, mongodb_db=f"kit-{uuid.uuid4().hex[:8]}")
    runtime = create_runtime(settings, emits=[RequestQueued])
    things = runtime.db["things"]
    runtime.outbox.track(things)
    seen: list[str] = []

    @subscribe(runtime.broker, runtime.service, RequestQueued)
    async def on_queued(event: Envelope[RequestQueued]) -> None:
        already, absorb = consume_once(event.event_id)
        result = await things.update_one(
            {"_id": "counter", **already}, merge_updates({"$inc": {"n": 1}}, absorb), upsert=False
        )
        if result.modified_count:
            seen.append(event.data.request_id)

    app = build_app(runtime, routers=[], description="servicekit test service")
    async with serve_in_process(app) as base_url:
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
    things = runtime.db["things"]
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        events = [runtime.event(queued("req_a"), correlation_id="corr-a")]
        await things.insert_one({"_id": "t1", **runtime.outbox.staged_fields(events)})
        await runtime.outbox.flush(things, "t1", events)
        message = await tap.wait_for(lambda m: m["data"]["request_id"] == "req_a")
        assert message["correlation_id"] == "corr-a"
        assert message["producer"] == "kit-svc"
    assert (await things.find_one({"_id": "t1"}))[OUTBOX] == []


async def test_conditional_update_that_loses_stages_nothing(kit):
    runtime, _, _ = kit
    things = runtime.db["things"]
    await things.insert_one({"_id": "t2", "state": "assigned"})
    events = [runtime.event(queued("req_lost"), correlation_id="c")]
    result = await things.update_one(
        {"_id": "t2", "state": "queued"},
        merge_updates({"$set": {"state": "assigned"}}, runtime.outbox.stage(events)),
    )
    assert result.modified_count == 0
    assert OUTBOX not in await things.find_one({"_id": "t2"})


async def test_events_left_by_a_crash_are_published_by_the_sweeper(kit, real_backends):
    runtime, _, _ = kit
    things = runtime.db["things"]
    # What a process killed right after its write leaves behind: staged, never published.
    event = runtime.event(queued("req_crash"), correlation_id="corr-crash")
    await things.update_one(
        {"_id": "t3"},
        merge_updates({"$set": {"state": "queued"}}, runtime.outbox.stage([event])),
        upsert=True,
    )
    await things.update_one({"_id": "t3"}, {"$set": {LEASE: datetime.now(UTC)}})
    async with AmqpTap(real_backends.rabbitmq_url, "request.queued.*") as tap:
        assert await runtime.outbox.sweep_once() == 1
        message = await tap.wait_for(lambda m: m["data"]["request_id"] == "req_crash")
        assert message["event_id"] == str(event.event_id)
    assert (await things.find_one({"_id": "t3"}))[OUTBOX] == []
    assert await runtime.outbox.sweep_once() == 0


async def test_redelivered_event_is_handled_once(kit, real_backends):
    runtime, _, seen = kit
    event = Envelope[RequestQueued].of(queued("req_twice"), producer="test", correlation_id="c")
    body = event.model_dump_json().encode()
    for _ in range(3):
        await publish_raw(real_backends.rabbitmq_url, "request.queued.v1", body, message_id=str(event.event_id))
    await asyncio.sleep(2)
    assert seen.count("req_twice") == 1
    assert (await runtime.db["things"].find_one({"_id": "counter"}))["n"] == 1


async def test_poison_message_goes_to_the_dead_letter_queue(kit, real_backends):
    runtime, _, seen = kit
    await publish_raw(real_backends.rabbitmq_url, "request.queued.v1", b"{not json")
    await publish_raw(
        real_backends.rabbitmq_url, "request.queued.v1", json.dumps({"type": "RequestQueued"}).encode()
    )
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
