"""Live frames reach every replica of a service through RabbitMQ, and no other service."""

import asyncio

import pytest

from servicekit.broker import make_broker
from servicekit.live import LiveFanout, LiveFrame

pytestmark = pytest.mark.integration


async def test_a_frame_published_on_one_replica_reaches_every_replica_in_order(real_backends):
    received: dict[str, list[LiveFrame]] = {"a": [], "b": [], "other": []}
    brokers, fanouts = [], {}
    for name, service in (("a", "chat-svc"), ("b", "chat-svc"), ("other", "presence-svc")):
        broker = make_broker(real_backends.rabbitmq_url, service=service)
        fanout = LiveFanout(broker, service, replica=f"test-{name}")

        async def deliver(frame: LiveFrame, name: str = name) -> None:
            received[name].append(frame)

        fanout.subscribe(deliver)
        await broker.start()
        brokers.append(broker)
        fanouts[name] = fanout
    try:
        for n in range(20):
            await fanouts["a"].publish("session.cht_1", {"type": "message", "n": n})
        # Barrier: a frame of the other service, published after, has arrived there.
        await fanouts["other"].publish("technician.tec_1", {"type": "marker"})
        for _ in range(100):
            if len(received["a"]) == 20 and len(received["b"]) == 20 and received["other"]:
                break
            await asyncio.sleep(0.05)
        for name in ("a", "b"):
            assert [f.frame["n"] for f in received[name]] == list(range(20))
            assert {f.origin for f in received[name]} == {"test-a"}
        assert [f.frame for f in received["other"]] == [{"type": "marker"}]
    finally:
        for broker in brokers:
            await broker.stop()
