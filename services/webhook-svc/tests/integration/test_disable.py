"""An endpoint failing for long enough is disabled, and its admins are told (an event)."""

import pytest

from testkit import eventually

from .conftest import running_hooks


@pytest.fixture(scope="module")
async def strict_hooks(real_backends):
    """Disabled after four failed attempts in a row (its own module: two instances at once
    would compete for the same queues)."""
    async for running in running_hooks(
        real_backends, "disable", webhook_disable_after_failures=4, webhook_disable_after_seconds=0.5
    ):
        yield running


async def test_a_failure_streak_disables_the_endpoint_and_announces_it(strict_hooks, receiver):
    hooks = strict_hooks
    account = hooks.account()
    endpoint_id, _ = await hooks.register(account, receiver)
    receiver.status = 503
    await hooks.publish(*hooks.lifecycle(account))

    disabled = await hooks.tap.wait_for(
        lambda m: m["type"] == "WebhookEndpointDisabled" and m["data"]["endpoint_id"] == endpoint_id, timeout=30
    )
    assert disabled["data"]["account_id"] == account
    assert disabled["data"]["consecutive_failures"] >= 4
    assert disabled["data"]["last_error"] == "HTTP 503"
    endpoint = await hooks.endpoint(account, endpoint_id)
    assert (endpoint["enabled"], endpoint["disabled_reason"]) == (False, "failures")
    # Whatever was still queued is given up, not sent to a disabled endpoint.
    rows = await hooks.settled(account, endpoint_id, 5)
    assert {r["status"] for r in rows} == {"failed"}

    # Enabled again by an admin: the streak starts over and new events flow.
    receiver.status = 200
    response = await hooks.http.patch(f"/endpoints/{endpoint_id}", json={"enabled": True}, headers=hooks.admin(account))
    assert response.status_code == 200 and response.json()["failure_streak"] == 0
    fresh = hooks.lifecycle(account)[0]
    await hooks.publish(fresh)
    await eventually(lambda: receiver.received, timeout=30, what="a delivery after re-enabling")
    assert [r.json["id"] for r in receiver.received] == [str(fresh.event_id)]


async def test_a_healthy_endpoint_is_never_disabled(strict_hooks, receiver):
    hooks = strict_hooks
    account = hooks.account()
    endpoint_id, _ = await hooks.register(account, receiver)
    await hooks.publish(*hooks.lifecycle(account), *hooks.lifecycle(account))
    await eventually(lambda: len(receiver.received) >= 10, timeout=30, what="ten deliveries")
    endpoint = await hooks.endpoint(account, endpoint_id)
    assert (endpoint["enabled"], endpoint["failure_streak"]) == (True, 0)
