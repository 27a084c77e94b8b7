"""One log stream: what a service prints while it consumes messages from the real broker."""

import io
import json
import logging
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import Envelope, RequestQueued
from servicekit.broker import make_broker, subscribe
from servicekit.logging import configure_logging
from testkit.amqp import publish_raw
from testkit.backends import isolated_vhost
from testkit.waiting import eventually

SERVICE = "logs-svc"


def queued(request_id: str) -> Envelope[RequestQueued]:
    data = RequestQueued(
        request_id=request_id, account_id="acc", company_id="cmp", position=1, queued_since=datetime.now(UTC)
    )
    return Envelope[RequestQueued].of(data, producer="tests", correlation_id=f"corr-{request_id}")


@pytest.fixture
def captured() -> Any:
    """The process's log output, as `configure_logging` renders it off a terminal."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(SERVICE, "INFO", stream=stream)
    yield stream
    root.handlers = saved[0]
    root.setLevel(saved[1])


async def publish(url: str, event: Envelope[Any]) -> None:
    await publish_raw(
        url,
        event.data.routing_key(),
        event.model_dump_json().encode(),
        message_id=str(event.event_id),
        correlation_id=event.correlation_id,
        content_type="application/json",
    )


async def test_each_consumed_message_is_one_json_line_with_its_outcome(real_backends, captured) -> None:
    attempts: Counter[str] = Counter()
    handled: list[str] = []
    with isolated_vhost(real_backends.rabbitmq_url, f"assistline-logs-{uuid.uuid4().hex[:8]}") as url:
        broker = make_broker(url, service=SERVICE)

        @subscribe(broker, SERVICE, RequestQueued)
        async def on_queued(event: Envelope[RequestQueued]) -> None:
            attempts[event.data.request_id] += 1
            if event.data.request_id == "req_bad" and attempts["req_bad"] == 1:
                raise RuntimeError("the handler broke")
            handled.append(event.data.request_id)

        await broker.start()
        try:
            good, bad = queued("req_good"), queued("req_bad")
            await publish(url, good)
            await publish(url, bad)
            await publish_raw(url, RequestQueued.routing_key(), b"{ not json", message_id="poison-1")
            await eventually(lambda: {"req_good", "req_bad"} <= set(handled), what="both handled")
            await eventually(lambda: "poison-1" in captured.getvalue(), what="the poison's line")
        finally:
            await broker.stop()

    lines = [line for line in captured.getvalue().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON, libraries' included
    consumed = [r for r in records if r["event"] == "event consumed"]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for record in consumed:
        by_id.setdefault(record["event_id"], []).append(record)

    # One line per delivery: the good message once, the failing one once per attempt.
    assert [r["outcome"] for r in by_id[str(good.event_id)]] == ["ack"]
    assert [r["outcome"] for r in by_id[str(bad.event_id)]] == ["nack", "ack"]
    assert [r["outcome"] for r in by_id["poison-1"]] == ["reject"]
    assert len(consumed) == 4, consumed

    line = by_id[str(good.event_id)][0]
    assert line["level"] == "info"
    assert line["logger"] == "servicekit.broker"
    assert line["service"] == SERVICE
    assert line["event_type"] == "RequestQueued"
    assert line["correlation_id"] == "corr-req_good"
    assert line["routing_key"] == RequestQueued.routing_key()
    assert isinstance(line["duration_ms"], float)
    assert "exception" not in line

    failed = by_id[str(bad.event_id)][0]
    assert "Traceback" in failed["exception"] and "the handler broke" in failed["exception"]
    assert by_id["poison-1"][0]["event_type"] is None

    # FastStream's own per-message lines stay at DEBUG, and its error line is not repeated.
    assert not [r for r in records if r["event"] in {"Received", "Processed"}]
    assert not [r for r in records if "the handler broke" in r["event"]]
    assert all("logger" in r and "timestamp" in r for r in records)
