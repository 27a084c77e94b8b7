"""The outbox keeps the trace: an event published later — by the sweeper, on another replica —
is published as a child of the span that staged it, never as a trace of its own.

Against the real MongoDB-wire server: the context must survive being stored in the document.
Publication goes through `Tracing.publishing`, as `servicekit.runtime` does; the broker's part
(headers on the wire) is covered end to end in `tests-e2e/test_traces.py`.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from contracts import Envelope, RequestQueued
from servicekit.outbox import OUTBOX, Outbox
from servicekit.tracing import TRACE_FIELD, Tracing
from testkit.waiting import eventually

pytestmark = pytest.mark.integration


def queued(request_id: str) -> Envelope[RequestQueued]:
    data = RequestQueued(
        request_id=request_id, account_id="acc", company_id="cmp", position=1, queued_since=datetime.now(UTC)
    )
    return Envelope[RequestQueued].of(data, producer="tests", correlation_id=f"corr-{request_id}")


class Replica:
    """One process's outbox with its tracing, publishing the way `servicekit.runtime` does, and
    a broker it can pretend is down."""

    def __init__(self, raw: AsyncCollection, tracing: Tracing) -> None:
        self.tracing = tracing
        self.broker_up = True
        self.sent: list[dict[str, Any]] = []
        self.outbox = Outbox(self.publish)
        self.writer = self.outbox.collection(raw)

    async def publish(self, event: Envelope[Any], *, maybe_repeat: bool = False) -> None:
        headers: dict[str, Any] = {}
        with self.tracing.publishing(event, routing_key=RequestQueued.routing_key(), headers=headers):
            if not self.broker_up:
                raise ConnectionError("broker unreachable")
            self.sent.append({"event_id": str(event.event_id), "headers": headers})


@pytest.fixture
async def raw(real_backends) -> AsyncIterator[AsyncCollection]:
    client: AsyncMongoClient = AsyncMongoClient(real_backends.mongodb_url)
    yield client[f"traces-{uuid.uuid4().hex[:8]}"]["requests"]
    await client.close()


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def replica(raw: AsyncCollection, exporter: InMemorySpanExporter, name: str) -> Replica:
    return Replica(raw, Tracing.with_processors(name, [SimpleSpanProcessor(exporter)]))


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[Any]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


async def test_a_sweep_on_another_replica_publishes_as_a_child_of_the_staging_span(raw, exporter):
    one, two = replica(raw, exporter, "one-svc"), replica(raw, exporter, "two-svc")
    event = queued("req_1")
    one.broker_up = False  # the write succeeds, the publication right after it fails
    assert one.tracing.tracer is not None
    with one.tracing.tracer.start_as_current_span("POST /requests", kind=SpanKind.SERVER) as request_span:
        await one.writer.insert({"_id": "req_1", "state": "queued"}, [event])
    staging = request_span.get_span_context()

    # What the document stores: the staging span's W3C context, next to the event.
    stored = await raw.find_one({"_id": "req_1"})
    assert stored is not None
    (entry,) = stored[OUTBOX]
    assert entry[TRACE_FIELD]["traceparent"].startswith(f"00-{staging.trace_id:032x}-{staging.span_id:016x}-")
    assert one.sent == []

    # Replica one is gone; replica two's sweeper, outside any span, publishes the event.
    assert not trace.get_current_span().get_span_context().is_valid
    assert await two.outbox.sweep_once() == 1
    (sent,) = two.sent
    assert sent["event_id"] == str(event.event_id)
    assert await raw.find_one({"_id": "req_1", OUTBOX: {"$exists": True}}) is None

    failed, published = spans_named(exporter, "publish request.queued.v1")
    for producer in (failed, published):
        assert producer.kind is SpanKind.PRODUCER
        assert producer.context.trace_id == staging.trace_id
        assert producer.parent is not None and producer.parent.span_id == staging.span_id
    assert published.resource.attributes["service.name"] == "two-svc"
    # The consumers continue from the producer span of the publication that went out.
    context = published.get_span_context()
    assert sent["headers"]["traceparent"].startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")


async def test_events_of_two_traces_on_one_document_keep_their_own_parents(raw, exporter):
    # Two requests (two traces) stage events on one document before anything is published:
    # the sweeper publishes each under its own parent, in order.
    one, two = replica(raw, exporter, "one-svc"), replica(raw, exporter, "two-svc")
    one.broker_up = False
    assert one.tracing.tracer is not None
    first, second = queued("req_a"), queued("req_a")
    with one.tracing.tracer.start_as_current_span("first") as first_span:
        await one.writer.insert({"_id": "doc", "n": 0}, [first])
    with one.tracing.tracer.start_as_current_span("second") as second_span:
        await one.writer.update({"_id": "doc"}, {"$inc": {"n": 1}}, [second])

    async def swept() -> bool:
        await two.outbox.sweep_once()
        return len(two.sent) == 2

    await eventually(swept, timeout=30, what="the sweeper publishes both staged events")
    assert [s["event_id"] for s in two.sent] == [str(first.event_id), str(second.event_id)]
    published = [
        s
        for s in spans_named(exporter, "publish request.queued.v1")
        if s.resource.attributes["service.name"] == "two-svc"
    ]
    assert [(s.context.trace_id, s.parent.span_id) for s in published] == [
        (first_span.get_span_context().trace_id, first_span.get_span_context().span_id),
        (second_span.get_span_context().trace_id, second_span.get_span_context().span_id),
    ]


async def test_off_nothing_is_stored_and_no_header_is_added(raw):
    off = Replica(raw, Tracing.off("off-svc"))
    off.broker_up = False
    await off.writer.insert({"_id": "req_off"}, [queued("req_off")])
    stored = await raw.find_one({"_id": "req_off"})
    assert stored is not None
    assert TRACE_FIELD not in stored[OUTBOX][0]
    off.broker_up = True
    assert await off.outbox.sweep_once() == 1
    assert off.sent[0]["headers"] == {}
