"""Malformed AMQP messages on every routing key a service consumes end in its `.dlq`,
and every service still processes valid events afterwards."""

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import aio_pika
import pytest
from contracts.events import CATALOGUE
from secsupport import client, create_tenant, open_phone_chat, wait_known_to_presence
from testkit.amqp import publish_raw

pytestmark = pytest.mark.e2e

SERVICES = ("portal-svc", "presence-svc", "dispatch-svc", "chat-svc")
EVENT_OF_KEY = {payload.routing_key(): payload.event_type for payload in CATALOGUE}


def envelope(event_type: str, data: object) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": "security-suite",
        "producer": "security-suite",
        "data": data,
    }


def poison(routing_key: str, event_type: str) -> dict[str, bytes]:
    """The malformed messages published to one routing key, by kind."""
    return {
        "not-json": b"\x00\xff<this is not json>",
        "wrong-envelope": json.dumps({"hello": "world", "routing_key": routing_key}).encode(),
        "wrong-data": json.dumps(envelope(event_type, {"request_id": 42, "account_id": None})).encode(),
        "unknown-type": json.dumps(envelope("NoSuchEvent", {"unexpected": ["shape"]})).encode(),
    }


async def consumed_keys(system) -> dict[str, dict[str, str]]:
    """service -> {routing key: event type}, from the AsyncAPI document each service serves."""
    found: dict[str, dict[str, str]] = {}
    async with client(system) as http:
        for service in SERVICES:
            document = (await http.get(f"/api/{service.removesuffix('-svc')}/asyncapi.json")).json()
            found[service] = {
                channel["address"]: EVENT_OF_KEY[channel["address"]]
                for name, channel in document["channels"].items()
                if name.endswith(":consume")
            }
    return found


async def dead_lettered(url: str, queue_name: str, wanted: set[str], timeout: float = 30.0) -> set[str]:
    """Message ids from `wanted` found in a dead-letter queue (acked); others are left there."""
    found: set[str] = set()
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=True)
        deadline = time.monotonic() + timeout
        while found != wanted and time.monotonic() < deadline:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                await asyncio.sleep(0.2)
                continue
            if message.message_id in wanted:
                found.add(message.message_id)
                await message.ack()
            # Anything else (another suite's poison) stays unacked: closing the channel requeues it.
    return found


async def test_malformed_messages_are_dead_lettered_and_valid_events_still_flow(system):
    url = system.backends.rabbitmq_url
    keys = await consumed_keys(system)
    assert all(keys.values()), keys
    expected: dict[str, dict[str, str]] = {service: {} for service in SERVICES}
    for routes in keys.values():
        for routing_key, event_type in routes.items():
            for kind, body in poison(routing_key, event_type).items():
                message_id = f"poison-{uuid.uuid4()}"
                await publish_raw(url, routing_key, body, message_id=message_id, content_type="application/json")
                # Every consumer of that key gets its own copy: each must dead-letter it.
                for consumer, their_routes in keys.items():
                    if routing_key in their_routes:
                        expected[consumer][message_id] = f"{kind} on {routing_key}"

    # Valid events right behind the poison on the same queues: a whole Phone-mode flow
    # (technician.updated, portal.configured, request.submitted, request.assigned,
    # chat.started) is processed by all four services.
    tenant = await create_tenant(
        system,
        "AfterPoison",
        companies={"phone": {"mode": "phone", "portal_type": "smart_pin"}},
        technicians={"tech": ["phone"]},
    )
    await wait_known_to_presence(system, tenant.technicians["tech"]["token"])
    chat = await open_phone_chat(system, tenant, "phone", "tech")
    assert chat.session_id

    for service in SERVICES:
        wanted = set(expected[service])
        found = await dead_lettered(url, f"{service}.dlq", wanted)
        missing = sorted(expected[service][m] for m in wanted - found)
        assert not missing, f"{service}: not dead-lettered: {missing}"


async def test_unknown_event_type_with_a_valid_looking_payload_is_dead_lettered(system):
    data = {"request_id": f"req_{uuid.uuid4().hex[:12]}", "account_id": "acc_nobody", "company_id": "cmp_nobody"}
    message_id = f"poison-{uuid.uuid4()}"
    await publish_raw(
        system.backends.rabbitmq_url,
        "request.cancelled.v1",
        json.dumps(envelope("NoSuchEvent", data)).encode(),
        message_id=message_id,
        content_type="application/json",
    )
    found = await dead_lettered(system.backends.rabbitmq_url, "chat-svc.dlq", {message_id}, timeout=8)
    assert found == {message_id}
