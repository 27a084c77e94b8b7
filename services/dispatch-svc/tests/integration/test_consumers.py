"""Consumer tests run twice: on FastStream's in-memory TestRabbitBroker (fast) and on the real
RabbitMQ (same code path as production). MongoDB is the real MongoDB-wire server in both."""

import inspect
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from faststream.rabbit import RabbitQueue, TestRabbitBroker
from pydantic import BaseModel, ConfigDict

from dispatch_svc.bootstrap import bootstrap
from dispatch_svc.config import Settings
from dispatch_svc.entrypoints.consumers import PARTITIONED
from dispatch_svc.entrypoints.partitions import Membership, Partitions
from servicekit.broker import EVENTS
from testkit import eventually

from ..support import available, cancelled, ended, envelope, submitted, unavailable, unique


class Published(BaseModel):
    """Any event dispatch published, as received."""

    model_config = ConfigDict(extra="allow")
    type: str
    data: dict[str, Any]


class Harness:
    def __init__(self, service: Any, broker: Any, published: list[dict[str, Any]]) -> None:
        self.service = service
        self.broker = broker
        self.published = published
        self.db = service.runtime.db

    async def send(self, payload: Any) -> None:
        event = envelope(payload)
        await self.broker.publish(
            event.model_dump(mode="json"),
            exchange=EVENTS,
            routing_key=event.data.routing_key(),
            message_id=str(event.event_id),
            correlation_id=event.correlation_id,
        )

    def assigned(self, request_id: str) -> list[dict[str, Any]]:
        return [
            e["data"]
            for e in self.published
            if e["type"] == "RequestAssigned" and e["data"]["request_id"] == request_id
        ]

    async def eventually(self, probe: Callable[[], Any], expected: Any = True, timeout: float = 10.0) -> None:
        """Waits until `probe()` (awaited if needed) equals `expected` (or is truthy for True)."""

        async def reached() -> bool:
            value = probe()
            if inspect.isawaitable(value):
                value = await value
            return value == expected or (expected is True and bool(value))

        await eventually(reached, timeout=timeout, every=0.05)


@pytest.fixture(params=["in_memory", "real_broker"])
async def harness(request, real_backends):
    # The in-memory broker has no consistent-hash exchange (nor exchange-to-exchange
    # bindings): there, dispatch consumes one queue per event; the real broker also runs the
    # (experimental, off by default) partitions, so their routing stays covered.
    partitions = {"partitions": 0} if request.param == "in_memory" else {"partitions": 8}
    settings = real_backends.settings(
        # Each write's outbox cleared at once, as in conftest's FAST: a test's sweep archives.
        Settings,
        mongodb_db=f"dispatch-unit-{uuid.uuid4().hex[:8]}",
        outbox_clear_seconds=0.0,
        **partitions,
    )
    service = bootstrap(settings)
    published: list[dict[str, Any]] = []

    # Listens to what dispatch publishes, through the broker under test.
    @service.runtime.broker.subscriber(
        RabbitQueue(f"dispatch-unit-tap-{uuid.uuid4().hex[:8]}", auto_delete=True, routing_key="request.#"), EVENTS
    )
    async def tap(message) -> None:  # subscribers added after the app is built get the raw message
        published.append(Published.model_validate_json(message.body).model_dump())

    async with TestRabbitBroker(service.runtime.broker, with_real=request.param == "real_broker") as broker:
        if settings.partitions:
            # What the app's broker-connected hook does (the harness starts the broker alone).
            partitions = Partitions(settings.service_name, settings.partitions, Membership(1.0))
            await partitions.bind(service.runtime.broker, list(PARTITIONED))
        yield Harness(service, broker, published)
    await service.runtime.mongo.close()


async def test_queue_requests_go_round_robin_within_capacity(harness):
    company = unique("cmp")
    await harness.send(available("tec_a", [company], 1, capacity=1))
    await harness.send(available("tec_b", [company], 1, capacity=1))
    technicians = harness.db["technicians"]
    await harness.eventually(lambda: technicians.count_documents({"available": True}), 2)
    requests = [unique("req") for _ in range(3)]
    for request_id in requests:
        await harness.send(submitted(request_id, company))
        await harness.eventually(
            lambda r=request_id: harness.db["requests"].count_documents({"_id": r, "state": {"$ne": "new"}})
        )
    await harness.eventually(
        lambda: len([e for e in harness.published if e["type"] in ("RequestAssigned", "RequestQueued")]), 3
    )
    assert [harness.assigned(r)[0]["technician_id"] for r in requests[:2]] == ["tec_a", "tec_b"]
    queued = [e["data"] for e in harness.published if e["type"] == "RequestQueued"]
    assert [(q["request_id"], q["position"]) for q in queued] == [(requests[2], 1)]

    await harness.send(ended(requests[0], company, "tec_a"))
    await harness.eventually(lambda: harness.assigned(requests[2]))
    assert harness.assigned(requests[2])[0]["technician_id"] == "tec_a"
    assert (await technicians.find_one({"_id": "tec_a"}))["active"] == [requests[2]]


async def test_stale_availability_is_ignored(harness):
    company = unique("cmp")
    technicians = harness.db["technicians"]
    await harness.send(unavailable("tec_a", [company], 5))
    await harness.eventually(lambda: technicians.count_documents({"_id": "tec_a", "sequence": 5}))
    await harness.send(available("tec_a", [company], 4))
    await harness.send(available("tec_a", [company], 6, capacity=2))
    await harness.eventually(lambda: technicians.count_documents({"_id": "tec_a", "sequence": 6}))
    technician = await technicians.find_one({"_id": "tec_a"})
    assert technician["available"] is True and technician["capacity"] == 2


async def test_cancelling_a_queued_request_removes_it_from_the_queue(harness):
    company = unique("cmp")
    request_id = unique("req")
    await harness.send(submitted(request_id, company))
    await harness.eventually(lambda: harness.db["requests"].count_documents({"_id": request_id, "state": "queued"}))
    await harness.send(cancelled(request_id, company))
    await harness.eventually(lambda: harness.db["requests"].count_documents({"_id": request_id, "state": "cancelled"}))
    await harness.send(available("tec_a", [company], 1))
    # The positive barrier: a later request of the company is served by the one free slot,
    # which the cancelled one would have taken first had it stayed in the queue.
    later = unique("req")
    await harness.send(submitted(later, company))
    await harness.eventually(lambda: harness.assigned(later))
    assert harness.assigned(request_id) == []
    assert await harness.service.handlers.sweeper.tick() == 0
    assert await harness.db["request_history"].count_documents({"_id": request_id, "state": "cancelled"}) == 1
