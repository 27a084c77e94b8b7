"""The `lanes` collection: the delivery queue, one document per (endpoint, request).

A lane lists the ids of its pending deliveries, oldest event first; only its head is ever
sent, so a later event of a request waits until the earlier one is delivered or given up.
A worker owns a lane while its lease runs (a killed worker's lanes are taken over once the
lease ran out: nothing is lost, a delivery may be sent twice). An emptied lane is deleted,
so the collection holds only requests with something still to send: the worker's one
sorted query stays small however long the service runs. Everything else is by `_id`.
"""

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LaneRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("due_at")

    async def push(
        self, lane: str, endpoint_id: str, delivery_id: str, occurred_at: datetime, ready_at: datetime
    ) -> None:
        """Queue a delivery in its lane, in event order (idempotent)."""
        entry = {"id": delivery_id, "at": occurred_at, "ready_at": ready_at}
        try:
            await self.collection.update_one(
                {"_id": lane, "pending.id": {"$ne": delivery_id}},
                {
                    "$push": {"pending": {"$each": [entry], "$sort": {"at": 1, "id": 1}}},
                    "$setOnInsert": {"endpoint_id": endpoint_id, "due_at": ready_at, "lease_until": EPOCH},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return  # queued already (a redelivered event)

    async def claim(self, now: datetime, lease_until: datetime) -> dict[str, Any] | None:
        """The most overdue lane nobody holds, now held by the caller until `lease_until`."""
        return await self.collection.find_one_and_update(
            {"due_at": {"$lte": now}, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": lease_until}},
            sort=[("due_at", 1)],
            return_document=ReturnDocument.AFTER,
        )

    async def pop(self, lane: str, delivery_id: str, lease_until: datetime) -> dict[str, Any] | None:
        """Remove a finished delivery from its lane (lease renewed); the lane after."""
        return await self.collection.find_one_and_update(
            {"_id": lane},
            {"$pull": {"pending": {"id": delivery_id}}, "$set": {"lease_until": lease_until}},
            return_document=ReturnDocument.AFTER,
        )

    async def hold(self, lane: str, lease_until: datetime) -> None:
        """Extend the caller's lease before a long piece of work."""
        await self.collection.update_one({"_id": lane}, {"$set": {"lease_until": lease_until}})

    async def reschedule(self, lane: str, due_at: datetime) -> None:
        """Release the lane until `due_at` (the head's next try, or when it becomes ready)."""
        await self.collection.update_one({"_id": lane}, {"$set": {"due_at": due_at, "lease_until": EPOCH}})

    async def drop_if_empty(self, lane: str) -> None:
        # Conditional: a delivery queued meanwhile keeps the lane.
        await self.collection.delete_one({"_id": lane, "pending": {"$size": 0}})

    async def backlog(self) -> int:
        return await self.collection.count_documents({})
