"""webhook-svc as its own OS process, killed with SIGKILL mid-stream: nothing is lost."""

import json

from testkit import eventually
from testkit.services import ServiceProcess, wait_ready
from testkit.webhooks import WebhookReceiver

from .conftest import FAST, Hooks


def environment(real_backends, database: str) -> dict[str, str]:
    env = {**real_backends.env("webhook-svc"), "MONGODB_DB": database}
    for name, value in FAST.items():
        env[name.upper()] = json.dumps(value) if isinstance(value, list) else str(value)
    return env


async def test_a_worker_killed_mid_delivery_loses_nothing_and_keeps_order(real_backends, tmp_path):
    database = "webhook-kill-" + tmp_path.name[-8:]
    account = Hooks.account()
    receiver = WebhookReceiver()
    receiver.delay = 0.1  # slow enough that the kill lands while deliveries are in flight
    await receiver.start()
    process = ServiceProcess("webhook_svc", environment(real_backends, database), log_path=tmp_path / "webhook.log")
    process.start()
    try:
        await wait_ready(process.base_url, "/api/webhook/ready", 90)
        hooks = Hooks(process.base_url, real_backends.rabbitmq_url, None, None)  # type: ignore[arg-type]
        endpoint_id, secret = await hooks.register(account, receiver)
        requests = [hooks.lifecycle(account) for _ in range(6)]
        for events in requests:
            await hooks.publish(*events)
        await eventually(lambda: len(receiver.received) >= 3, timeout=30, what="the first deliveries")
        process.kill()
        delivered_before = len(receiver.received)
        # Published while no webhook-svc runs: they wait in its durable queues.
        late = [hooks.lifecycle(account) for _ in range(2)]
        for events in late:
            await hooks.publish(*events)
        process.start()
        await wait_ready(process.base_url, "/api/webhook/ready", 90)
        total = 5 * (len(requests) + len(late))
        await eventually(
            lambda: len({r.json["id"] for r in receiver.received}) >= total, timeout=90, what=f"{total} events"
        )
        rows = await hooks.settled(account, endpoint_id, total, timeout=60)
        await hooks.http.aclose()
    finally:
        process.stop()
        await receiver.stop()

    assert delivered_before < total, "the kill came too late to interrupt anything"
    assert {r["status"] for r in rows} == {"delivered"}
    for events in requests + late:
        subject = events[0].data.request_id
        ids = [r.verified(secret)["id"] for r in receiver.received if r.json["subject"] == subject]
        first_arrivals = list(dict.fromkeys(ids))  # at least once: a duplicate may follow a kill
        assert first_arrivals == [str(e.event_id) for e in events], subject
