"""Use case: an event arrived — record one delivery per subscribed endpoint of its account.

Recording happens before the event's message is acknowledged, so a process killed at any
point loses nothing: the broker redelivers the message, and recording it again is harmless
(the delivery id is derived from endpoint and event, the lane push is idempotent).
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope, cloudevents
from webhook_svc.adapters.deliveries import DeliveryRepository
from webhook_svc.adapters.endpoints import EndpointRepository
from webhook_svc.adapters.lanes import LaneRepository
from webhook_svc.domain.model import Delivery, DeliveryStatus, Endpoint, delivery_id, lane_id


def body_of(event: Envelope[Any]) -> str:
    """The CloudEvents 1.0 structured-mode JSON body: attributes, and the envelope as `data`."""
    return json.dumps(cloudevents.structured(event), separators=(",", ":"), ensure_ascii=False)


class Recording:
    def __init__(
        self,
        endpoints: EndpointRepository,
        deliveries: DeliveryRepository,
        lanes: LaneRepository,
        *,
        settle_seconds: float,
    ) -> None:
        self.endpoints = endpoints
        self.deliveries = deliveries
        self.lanes = lanes
        self.settle = timedelta(seconds=settle_seconds)

    async def on_event(self, event: Envelope[Any]) -> int:
        """Queue `event` for the endpoints of its own account subscribed to it; how many."""
        account_id = getattr(event.data, "account_id", None)
        if not account_id:
            return 0
        targets = await self.endpoints.subscribed(account_id, event.type)
        if not targets:
            return 0
        payload = body_of(event)
        subject = cloudevents.ce_subject(event) or str(event.event_id)
        for endpoint in targets:
            await self._queue(endpoint, event, payload, subject)
        return len(targets)

    async def _queue(self, endpoint: Endpoint, event: Envelope[Any], payload: str, subject: str) -> None:
        now = datetime.now(UTC)
        delivery = Delivery(
            delivery_id=delivery_id(endpoint.endpoint_id, str(event.event_id)),
            endpoint_id=endpoint.endpoint_id,
            account_id=endpoint.account_id,
            event_id=str(event.event_id),
            event_type=event.type,
            lane=lane_id(endpoint.endpoint_id, subject),
            payload=payload,
            status=DeliveryStatus.PENDING,
            attempts=0,
            created_at=now,
            occurred_at=event.occurred_at,
        )
        status = await self.deliveries.record(delivery)
        if status is DeliveryStatus.PENDING:
            await self.lanes.push(
                delivery.lane, endpoint.endpoint_id, delivery.delivery_id, event.occurred_at, now + self.settle
            )
