"""Company partitions: workers share out companies with RabbitMQ's own mechanisms.

Every event dispatch consumes about one company (submitted, cancelled, chat ended, portal
configured) goes from the events exchange to a consistent-hash exchange that hashes on the
company header (`contracts.PARTITION_HEADER`) and on to one of N partition queues. Each is
a quorum queue with a single active consumer (SAC), so one company's events are handled by
one worker at a time, one at a time, in order: two workers no longer race for the same
requests, technicians' slots or queue head.

Every worker subscribes to every partition, so each partition has standbys: when a worker
dies its connection drops and RabbitMQ at once makes the next consumer active. SAC alone
would leave the first worker active everywhere, so workers also agree on owners: each
announces itself every heartbeat (over the live exchange, which every replica hears), the owner of partition p is the p-th
(mod n) of the live workers sorted, and a worker that handles a message of a partition it
does not own steps back — cancels its consumer before the message is acknowledged (no
second message can reach it) and subscribes again, at the back of the line — so the owner,
already waiting, becomes active. A worker steps back only from a partition it is actually
serving, so views that briefly disagree cost at most a few handovers, never a message.

Correctness never depended on this: every write stays conditional, so a handover (or the
sweeper, or a technician event, which concerns several companies and stays on its own
competing queue) racing a partition's worker is still safe.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faststream.exceptions import RejectMessage
from faststream.rabbit import Channel, ExchangeType, QueueType, RabbitBroker, RabbitExchange, RabbitQueue
from faststream.rabbit.subscriber import RabbitSubscriber

from contracts import DEAD_LETTER_EXCHANGE, PARTITION_HEADER, Envelope, EventPayload
from dispatch_svc.adapters.contention import CONTENTION
from servicekit.broker import DELIVERY_LIMIT, EVENTS, LIVE_EXCHANGE
from servicekit.logging import get_logger

log = get_logger(__name__)

Handler = Callable[[Envelope[Any]], Awaitable[None]]

SILENT_HEARTBEATS = 3
"""A worker not heard from for this many heartbeats is presumed gone."""
STEP_BACK_COOLDOWN = 5.0
"""Seconds between two step-backs from one partition (views may briefly disagree)."""
REJOIN_PAUSE = 0.2
"""Seconds between cancelling a consumer and subscribing again: the handled message is
acknowledged meanwhile, so the worker never holds two messages of one partition."""


class Membership:
    """The live dispatch workers, as heard from their heartbeats."""

    def __init__(self, heartbeat: float, *, me: str | None = None) -> None:
        self.me = me or f"dispatch-{uuid.uuid4().hex[:12]}"
        self.heartbeat = heartbeat
        self._seen: dict[str, float] = {self.me: time.monotonic()}

    def heard(self, member: str) -> None:
        self._seen[member] = time.monotonic()

    def members(self) -> list[str]:
        horizon = time.monotonic() - SILENT_HEARTBEATS * self.heartbeat
        self._seen = {m: at for m, at in self._seen.items() if at >= horizon or m == self.me}
        return sorted(self._seen)

    def owner(self, partition: int) -> str:
        members = self.members()
        return members[partition % len(members)]


class Partitions:
    """The partition queues of one dispatch worker and its membership heartbeat."""

    def __init__(self, service: str, count: int, membership: Membership) -> None:
        self.service = service
        self.count = count
        self.membership = membership
        self.exchange = RabbitExchange(
            f"{service}.partitions",
            type=ExchangeType.X_CONSISTENT_HASH,
            durable=True,
            arguments={"hash-header": PARTITION_HEADER},
        )
        # Heartbeats are chatter between replicas: they ride the live exchange (logged at DEBUG).
        self.members_exchange = RabbitExchange(LIVE_EXCHANGE, type=ExchangeType.TOPIC, durable=True)
        self.members_key = f"{service}-members.heartbeat"
        self._subscribers: list[RabbitSubscriber] = []
        self._stepped_back_at: dict[int, float] = {}
        self._rejoining: set[asyncio.Task[None]] = set()

    def queue(self, partition: int) -> RabbitQueue:
        name = f"{self.service}.partition.{partition}"
        return RabbitQueue(
            name,
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key="1",  # the binding's weight on the hash ring: every partition the same
            arguments={
                "x-single-active-consumer": True,
                "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
                "x-dead-letter-routing-key": name,
                "x-delivery-limit": DELIVERY_LIMIT,
            },
        )

    def register(self, broker: RabbitBroker, handlers: Mapping[type[EventPayload], Handler]) -> None:
        """Subscribes to every partition (and to the members' heartbeats)."""
        by_type = {payload.event_type: (payload, handle) for payload, handle in handlers.items()}
        for partition in range(self.count):
            subscriber = broker.subscriber(
                self.queue(partition),
                self.exchange,
                # One message at a time per partition: the partition's order is the company's.
                channel=Channel(prefetch_count=1),
                title=f"{self.service}.partition.{partition}:consume",
                description="Events about the companies hashed to this partition: " + ", ".join(sorted(by_type)),
            )
            subscriber(self._consumer(partition, by_type))
            self._subscribers.append(subscriber)

        members = broker.subscriber(
            RabbitQueue(
                f"{self.membership.me}.heartbeats",
                durable=False,
                exclusive=True,
                auto_delete=True,
                routing_key=self.members_key,
            ),
            self.members_exchange,
            include_in_schema=False,
        )

        @members
        async def heard(body: dict[str, Any]) -> None:
            if isinstance(member := body.get("member"), str):
                self.membership.heard(member)

    async def bind(self, broker: RabbitBroker, payloads: list[type[EventPayload]]) -> None:
        """Feeds the hash exchange from the events exchange (exchange-to-exchange bindings),
        once the broker is connected."""
        events = await broker.declare_exchange(EVENTS)
        partitions = await broker.declare_exchange(self.exchange)
        for payload in payloads:
            await partitions.bind(events, routing_key=payload.routing_key())

    async def beat(self, broker: RabbitBroker) -> None:
        await broker.publish(
            {"member": self.membership.me}, exchange=self.members_exchange, routing_key=self.members_key, persist=False
        )

    def _consumer(
        self, partition: int, by_type: Mapping[str, tuple[type[EventPayload], Handler]]
    ) -> Callable[[dict[str, Any]], Awaitable[None]]:
        # A body that is not a JSON object fails validation: EventContext dead-letters it.
        async def consume(body: dict[str, Any]) -> None:
            if body.get("type") not in by_type:
                raise RejectMessage()  # not an event this queue is bound for: poison
            payload, handle = by_type[body["type"]]
            await handle(Envelope[payload].model_validate(body))  # type: ignore[valid-type]
            await self._step_back_unless_owner(partition)

        return consume

    async def _step_back_unless_owner(self, partition: int) -> None:
        if self.membership.owner(partition) == self.membership.me:
            return
        now = time.monotonic()
        if now - self._stepped_back_at.get(partition, -STEP_BACK_COOLDOWN) < STEP_BACK_COOLDOWN:
            return
        subscriber = self._subscribers[partition]
        # FastStream has no public "cancel the consumer now": its stop() waits for this very
        # handler first, and drops (never settles) a message delivered meanwhile.
        queue, tag = subscriber._queue_obj, subscriber._consumer_tag
        if queue is None or tag is None:
            return
        self._stepped_back_at[partition] = now
        await queue.cancel(tag)
        subscriber._consumer_tag = None
        CONTENTION.step_backs += 1
        log.info("partition handed to its owner", partition=partition, owner=self.membership.owner(partition))
        task = asyncio.create_task(self._rejoin(subscriber))
        self._rejoining.add(task)
        task.add_done_callback(self._rejoining.discard)

    async def _rejoin(self, subscriber: RabbitSubscriber) -> None:
        """Subscribes again, at the back of the partition's line; retried until it works (a
        broker outage may close the channel meanwhile) or the subscriber stops."""
        await asyncio.sleep(REJOIN_PAUSE)
        while subscriber.running and subscriber._consumer_tag is None:
            queue = subscriber._queue_obj
            if queue is None:
                return  # stopped (shutdown) meanwhile
            try:
                subscriber._consumer_tag = await queue.consume(subscriber.consume, arguments=subscriber.consume_args)  # type: ignore[arg-type]
            except Exception as error:  # the channel is down: the broker is reconnecting
                log.warning("could not rejoin a partition yet", queue=subscriber.queue.name, error=str(error)[:200])
                await asyncio.sleep(1.0)
