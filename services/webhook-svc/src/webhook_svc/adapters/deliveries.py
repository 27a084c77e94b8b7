"""The `deliveries` collection: one document per (endpoint, event) — the delivery log.

A delivery is recorded here (with the exact body it sends) before it is queued in its lane,
and its document is what "send again" re-queues. The hot path only ever reads and writes it
by `_id`; the listing for the admin console and the retention clean-up are the only queries
by other fields. Finished deliveries are deleted `webhook_log_retention_days` after they
finished, so the collection stays bounded by traffic × retention.
"""

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from webhook_svc.domain.model import AttemptRecord, Delivery, DeliveryStatus

HISTORY = 20
"""Attempts remembered per delivery (the newest ones)."""


def to_delivery(document: dict[str, Any]) -> Delivery:
    return Delivery(
        delivery_id=document["_id"],
        endpoint_id=document["endpoint_id"],
        account_id=document["account_id"],
        event_id=document["event_id"],
        event_type=document["event_type"],
        lane=document["lane"],
        payload=document["payload"],
        status=DeliveryStatus(document["status"]),
        attempts=document.get("attempts", 0),
        created_at=document["created_at"],
        occurred_at=document.get("occurred_at", document["created_at"]),
        last_status_code=document.get("last_status_code"),
        last_error=document.get("last_error", ""),
        last_attempt_at=document.get("last_attempt_at"),
        history=tuple(
            AttemptRecord(
                attempt=h["attempt"],
                at=h["at"],
                status_code=h.get("status_code"),
                error=h.get("error", ""),
                duration_ms=h.get("duration_ms", 0.0),
            )
            for h in document.get("history", ())
        ),
    )


def _attempt(record: AttemptRecord) -> dict[str, Any]:
    return {
        "$set": {
            "attempts": record.attempt,
            "last_status_code": record.status_code,
            "last_error": record.error,
            "last_attempt_at": record.at,
        },
        "$push": {
            "history": {
                "$each": [
                    {
                        "attempt": record.attempt,
                        "at": record.at,
                        "status_code": record.status_code,
                        "error": record.error,
                        "duration_ms": record.duration_ms,
                    }
                ],
                "$slice": -HISTORY,
            }
        },
    }


class DeliveryRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("endpoint_id", 1), ("created_at", -1)])
        await self.collection.create_index("finished_at", sparse=True)

    async def record(self, delivery: Delivery) -> DeliveryStatus:
        """Store a new delivery; for one recorded already (a redelivered event), its status."""
        try:
            await self.collection.insert_one(
                {
                    "_id": delivery.delivery_id,
                    "endpoint_id": delivery.endpoint_id,
                    "account_id": delivery.account_id,
                    "event_id": delivery.event_id,
                    "event_type": delivery.event_type,
                    "lane": delivery.lane,
                    "payload": delivery.payload,
                    "status": delivery.status.value,
                    "attempts": 0,
                    "created_at": delivery.created_at,
                    "occurred_at": delivery.occurred_at,
                }
            )
            return delivery.status
        except DuplicateKeyError:
            stored = await self.collection.find_one({"_id": delivery.delivery_id}, projection={"status": 1})
            return DeliveryStatus(stored["status"]) if stored else delivery.status

    async def get(self, delivery_id: str) -> Delivery | None:
        document = await self.collection.find_one({"_id": delivery_id})
        return to_delivery(document) if document else None

    async def delivered(self, delivery_id: str, record: AttemptRecord) -> None:
        update = _attempt(record)
        update["$set"] |= {"status": DeliveryStatus.DELIVERED.value, "finished_at": record.at}
        await self.collection.update_one({"_id": delivery_id, "status": DeliveryStatus.PENDING.value}, update)

    async def failed(self, delivery_id: str, record: AttemptRecord, *, give_up: bool) -> None:
        update = _attempt(record)
        if give_up:
            update["$set"] |= {"status": DeliveryStatus.FAILED.value, "finished_at": record.at}
        await self.collection.update_one({"_id": delivery_id, "status": DeliveryStatus.PENDING.value}, update)

    async def abandon(self, delivery_id: str, reason: str, now: datetime) -> None:
        """Give up without an attempt (the endpoint was disabled or deleted)."""
        await self.collection.update_one(
            {"_id": delivery_id, "status": DeliveryStatus.PENDING.value},
            {"$set": {"status": DeliveryStatus.FAILED.value, "last_error": reason, "finished_at": now}},
        )

    async def requeue(self, delivery_id: str, endpoint_id: str) -> Delivery | None:
        """A finished delivery back to pending, its try count restarted ("send again")."""
        after = await self.collection.find_one_and_update(
            {"_id": delivery_id, "endpoint_id": endpoint_id, "status": {"$ne": DeliveryStatus.PENDING.value}},
            {"$set": {"status": DeliveryStatus.PENDING.value, "attempts": 0}, "$unset": {"finished_at": ""}},
            return_document=ReturnDocument.AFTER,
        )
        return to_delivery(after) if after else None

    async def page(self, endpoint_id: str, *, limit: int, offset: int) -> list[Delivery]:
        """Newest first; the admin console's delivery log."""
        cursor = self.collection.find({"endpoint_id": endpoint_id}).sort("created_at", -1).skip(offset).limit(limit)
        return [to_delivery(d) async for d in cursor]

    async def purge(self, finished_before: datetime) -> int:
        result = await self.collection.delete_many({"finished_at": {"$lt": finished_before}})
        return result.deleted_count

    async def forget_endpoint(self, endpoint_id: str) -> None:
        await self.collection.delete_many({"endpoint_id": endpoint_id})
