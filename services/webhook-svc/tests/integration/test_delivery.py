"""Deliveries: signed CloudEvents, only the account's own, in order per request, retried."""

from datetime import datetime

from testkit import eventually
from testkit.webhooks import WebhookReceiver


async def test_an_accounts_events_reach_its_endpoint_as_signed_cloudevents_and_no_other_account(hooks):
    mine, theirs = hooks.account(), hooks.account()
    async with WebhookReceiver() as receiver, WebhookReceiver() as other:
        _, secret = await hooks.register(mine, receiver)
        _, other_secret = await hooks.register(theirs, other)
        events = hooks.lifecycle(mine)
        await hooks.publish(*events)
        await eventually(lambda: len(receiver.received) >= 5, timeout=30, what="five deliveries")
        # Positive barrier for the other account: its own event arrives, and nothing else did.
        own = hooks.lifecycle(theirs)[0]
        await hooks.publish(own)
        await eventually(lambda: other.received, timeout=30, what="the other account's own delivery")

    verified = [r.verified(secret) for r in receiver.received]
    assert [e["id"] for e in verified] == [str(e.event_id) for e in events]
    first = verified[0]
    assert first["specversion"] == "1.0"
    assert first["type"] == "com.assistline.RequestSubmitted.v1"
    assert first["source"] == "/assistline/portal-svc"
    assert first["subject"] == events[0].data.request_id
    assert first["datacontenttype"] == "application/json"
    assert first["data"]["data"]["account_id"] == mine
    assert receiver.received[0].headers["webhook-id"] == str(events[0].event_id)
    assert receiver.received[0].headers["content-type"].startswith("application/cloudevents+json")

    assert [r.verified(other_secret)["id"] for r in other.received] == [str(own.event_id)]


async def test_only_the_chosen_event_types_are_sent(hooks, receiver):
    account = hooks.account()
    _, secret = await hooks.register(account, receiver, ["RequestAssigned", "ChatSessionEnded"])
    events = hooks.lifecycle(account)
    await hooks.publish(*events)
    await eventually(lambda: len(receiver.received) >= 2, timeout=30, what="two deliveries")
    # The last event of the lifecycle has arrived: anything subscribed before it would have too.
    assert [r.verified(secret)["type"] for r in receiver.received] == [
        "com.assistline.RequestAssigned.v1",
        "com.assistline.ChatSessionEnded.v1",
    ]


async def test_a_receiver_that_was_down_gets_everything_in_order_per_request(hooks):
    account = hooks.account()
    receiver = WebhookReceiver()
    endpoint_id, secret = await hooks.register(account, receiver)
    requests = [hooks.lifecycle(account) for _ in range(3)]
    # Published newest first: arrival order at webhook-svc is not the order of the facts.
    for events in requests:
        await hooks.publish(*reversed(events))

    async def retried() -> bool:
        rows = await hooks.deliveries(account, endpoint_id)
        return any(r["attempts"] >= 2 for r in rows)

    await eventually(retried, timeout=30, what="a delivery tried twice while the receiver is down")
    async with receiver:
        await eventually(lambda: len(receiver.received) >= 15, timeout=60, what="all fifteen deliveries")
        rows = await hooks.settled(account, endpoint_id, 15)

    assert {r["status"] for r in rows} == {"delivered"}
    for events in requests:
        subject = events[0].data.request_id
        arrived = [r.verified(secret) for r in receiver.received if r.json["subject"] == subject]
        # Each once (no retry was answered), in the order the facts happened.
        assert [e["id"] for e in arrived] == [str(e.event_id) for e in events]
    failed_tries = [h for r in rows for h in r["history"] if h["status_code"] is None]
    assert failed_tries and all("ConnectError" in h["error"] for h in failed_tries)


async def test_failed_attempts_back_off_then_give_up_and_send_again_delivers(hooks, receiver):
    account = hooks.account()
    endpoint_id, secret = await hooks.register(account, receiver, ["RequestSubmitted"])
    receiver.status = 500
    submitted = hooks.lifecycle(account)[0]
    await hooks.publish(submitted)
    [row] = await hooks.settled(account, endpoint_id, 1)
    assert row["status"] == "failed" and row["attempts"] == 4  # first try + the schedule's three
    assert [h["status_code"] for h in row["history"]] == [500, 500, 500, 500]
    gaps = [
        (later - earlier).total_seconds()
        for earlier, later in zip(
            [_at(h) for h in row["history"]][:-1], [_at(h) for h in row["history"]][1:], strict=True
        )
    ]
    # Exponential: each wait at least the configured one (0.3, 0.6, 1.2 s).
    assert all(gap >= wait * 0.95 for gap, wait in zip(gaps, [0.3, 0.6, 1.2], strict=True)), gaps
    assert receiver.received == []

    receiver.status = 200
    response = await hooks.http.post(
        f"/endpoints/{endpoint_id}/deliveries/{row['delivery_id']}/resend", headers=hooks.admin(account)
    )
    assert response.status_code == 202, response.text
    await eventually(lambda: receiver.received, timeout=30, what="the delivery sent again")
    assert receiver.received[0].verified(secret)["id"] == str(submitted.event_id)
    [again] = await hooks.settled(account, endpoint_id, 1)
    assert again["status"] == "delivered" and again["last_status_code"] == 200


async def test_a_rotated_secret_signs_alongside_the_old_one_during_the_overlap(hooks, receiver):
    account = hooks.account()
    endpoint_id, old = await hooks.register(account, receiver, ["RequestSubmitted"])
    response = await hooks.http.post(f"/endpoints/{endpoint_id}/rotate-secret", headers=hooks.admin(account))
    assert response.status_code == 200, response.text
    new = response.json()["secret"]
    assert new != old and new.startswith("whsec_")
    await hooks.publish(hooks.lifecycle(account)[0])
    await eventually(lambda: receiver.received, timeout=30, what="a delivery")
    delivery = receiver.received[0]
    assert len(delivery.headers["webhook-signature"].split(" ")) == 2
    assert delivery.verified(new) == delivery.verified(old)


def _at(history_row):
    return datetime.fromisoformat(history_row["at"])


async def test_a_redelivered_event_is_not_sent_twice(hooks, receiver):
    account = hooks.account()
    await hooks.register(account, receiver, ["RequestSubmitted"])
    duplicate, barrier = hooks.lifecycle(account)[0], hooks.lifecycle(account)[0]
    await hooks.publish(duplicate, duplicate)
    await eventually(lambda: receiver.received, timeout=30, what="the first copy delivered")
    # Behind both copies on the same queue: once it is delivered, the second copy was consumed.
    await hooks.publish(duplicate, barrier)
    await eventually(lambda: len(receiver.received) >= 2, timeout=30, what="the barrier delivered")
    assert [r.json["id"] for r in receiver.received] == [str(duplicate.event_id), str(barrier.event_id)]
