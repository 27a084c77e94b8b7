"""Use case: send what is due — the delivery worker every replica runs.

It claims one lane (one request's deliveries to one endpoint) at a time under a lease and
sends its head, then the next, until the lane is empty or its head must wait for a retry.
Every attempt is logged on the delivery; a failed one counts towards the endpoint's failure
streak, which disables the endpoint (and tells its admins) once it has lasted too long.
"""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope, EventPayload, WebhookEndpointDisabled
from servicekit.logging import get_logger
from webhook_svc.adapters.deliveries import DeliveryRepository
from webhook_svc.adapters.endpoints import EndpointRepository
from webhook_svc.adapters.lanes import LaneRepository
from webhook_svc.adapters.sender import Outcome, Sender
from webhook_svc.domain.model import AttemptRecord, Delivery, DeliveryStatus, Endpoint
from webhook_svc.domain.retry import RetryPolicy
from webhook_svc.domain.signing import signature_headers

log = get_logger(__name__)

MakeEvent = Callable[[EventPayload, str], Envelope[Any]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    def __init__(
        self,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        lanes: LaneRepository,
        sender: Sender,
        policy: RetryPolicy,
        make_event: MakeEvent,
        *,
        lease_seconds: float,
        attempt_seconds: float,
        concurrency: int,
    ) -> None:
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.lanes = lanes
        self.sender = sender
        self.policy = policy
        self.make_event = make_event
        self.lease = timedelta(seconds=lease_seconds)
        self.attempt = timedelta(seconds=attempt_seconds)
        """The longest an attempt takes: the lease must still run at least this long when one starts."""
        self.concurrency = concurrency

    async def tick(self) -> int:
        """Send everything due now, `concurrency` lanes at a time; how many were delivered."""
        return sum(await asyncio.gather(*(self._drain() for _ in range(self.concurrency))))

    async def _drain(self) -> int:
        delivered = 0
        while True:
            now = utcnow()
            lane = await self.lanes.claim(now, now + self.lease)
            if lane is None:
                return delivered
            delivered += await self.work(lane)

    async def work(self, lane: dict[str, Any]) -> int:
        """Send a claimed lane's deliveries in order, until it is empty or must wait."""
        lane_id = lane["_id"]
        endpoint = await self.endpoints.get(lane["endpoint_id"])
        pending: list[dict[str, Any]] = lane.get("pending", [])
        held_until: datetime = lane["lease_until"]
        delivered = 0
        while pending:
            head = pending[0]
            if head["ready_at"] > utcnow():
                await self.lanes.reschedule(lane_id, head["ready_at"])
                return delivered
            delivery = await self.deliveries.get(head["id"])
            if delivery is None or delivery.status is not DeliveryStatus.PENDING:
                held_until, pending = await self._pop(lane_id, head["id"])
                continue
            if endpoint is None or not endpoint.enabled:
                reason = "endpoint deleted" if endpoint is None else "endpoint disabled"
                await self.deliveries.abandon(delivery.delivery_id, reason, utcnow())
                held_until, pending = await self._pop(lane_id, head["id"])
                continue
            if held_until - utcnow() < 1.5 * self.attempt:
                held_until = utcnow() + self.lease
                await self.lanes.hold(lane_id, held_until)
            outcome = await self._attempt(endpoint, delivery)
            record = AttemptRecord(
                attempt=delivery.attempts + 1,
                at=utcnow(),
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
            if outcome.ok:
                await self.deliveries.delivered(delivery.delivery_id, record)
                await self.endpoints.succeeded(endpoint.endpoint_id)
                delivered += 1
                held_until, pending = await self._pop(lane_id, head["id"])
                continue
            delay = self.policy.delay_after(record.attempt)
            await self.deliveries.failed(delivery.delivery_id, record, give_up=delay is None)
            endpoint = await self._failure(endpoint, delivery, outcome)
            log.info(
                "webhook attempt failed",
                endpoint_id=delivery.endpoint_id,
                event_id=delivery.event_id,
                attempt=record.attempt,
                error=outcome.error,
                retry_in_seconds=delay,
            )
            if delay is None:
                held_until, pending = await self._pop(lane_id, head["id"])
                continue
            await self.lanes.reschedule(lane_id, utcnow() + timedelta(seconds=delay))
            return delivered
        await self.lanes.drop_if_empty(lane_id)
        return delivered

    async def _pop(self, lane_id: str, delivery_id: str) -> tuple[datetime, list[dict[str, Any]]]:
        """Remove a finished delivery from the lane, renewing the lease; (lease end, what is left)."""
        held_until = utcnow() + self.lease
        after = await self.lanes.pop(lane_id, delivery_id, held_until)
        return held_until, (after or {}).get("pending", [])

    async def _attempt(self, endpoint: Endpoint, delivery: Delivery) -> Outcome:
        body = delivery.payload.encode()
        # The event id is the message id: the same on every try, so receivers deduplicate on it.
        headers = signature_headers(delivery.event_id, int(time.time()), body, endpoint.signing_secrets(utcnow()))
        return await self.sender.post(endpoint.url, body, headers)

    async def _failure(self, endpoint: Endpoint, delivery: Delivery, outcome: Outcome) -> Endpoint | None:
        """Count the failure; disable the endpoint once the streak is long enough."""
        now = utcnow()
        after = await self.endpoints.failed(endpoint.endpoint_id, outcome.error, now)
        if after is None or not after.enabled:
            return after
        if not self.policy.should_disable(after.failure_streak, after.failing_since, now):
            return after
        event = self.make_event(
            WebhookEndpointDisabled(
                endpoint_id=after.endpoint_id,
                account_id=after.account_id,
                url=after.url,
                consecutive_failures=after.failure_streak,
                failing_since=after.failing_since or now,
                last_error=outcome.error[:500],
            ),
            after.endpoint_id,
        )
        if await self.endpoints.disable(after.endpoint_id, "failures", event, now):
            log.warning(
                "webhook endpoint disabled after a failure streak",
                endpoint_id=after.endpoint_id,
                account_id=after.account_id,
                consecutive_failures=after.failure_streak,
            )
        return await self.endpoints.get(after.endpoint_id)
