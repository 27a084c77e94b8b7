"""Technicians as dispatch sees them, and their capacity slots.

A slot is an entry of `active`. Claiming one is a single conditional update that only
matches while `active` has fewer than `capacity` entries, so capacity holds exactly
whatever the number of workers, with no transaction. `claimed_at.<request>` dates each
slot, so the sweeper can free one whose request claim never happened (a crash between
the two writes).
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]


class SlotClaim(StrEnum):
    CLAIMED = "claimed"
    HELD = "held"
    """Already held for this request by another claim (in flight, or left by a crash)."""
    FULL = "full"
    """No room, or the technician cannot take it."""


def newer(field: str, value: int) -> dict[str, Any]:
    """Filter: the stored `field` is older than `value` (or absent)."""
    return {"$or": [{field: {"$lt": value}}, {field: {"$exists": False}}]}


class Technicians:
    def __init__(self, collection: AsyncCollection, *, default_capacity: int) -> None:
        self.collection = collection
        self._default_capacity = default_capacity

    async def create_indexes(self) -> None:
        await self.collection.create_index("company_ids")

    def _defaults(self, account_id: str, changes: Doc) -> Doc:
        """Fields a technician document starts with, except those `changes` sets."""
        defaults = {
            "account_id": account_id,
            "active": [],
            "code_ids": [],
            "company_ids": [],
            "capacity": self._default_capacity,
            "enabled": True,
            "available": False,
        }
        return {k: v for k, v in defaults.items() if k not in changes}

    async def get(self, technician_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": technician_id})

    async def record(self, technician_id: str, account_id: str, guard: dict[str, Any], changes: Doc) -> bool:
        """Applies a change guarded by a sequence/revision filter; False when it is stale."""
        try:
            result = await self.collection.update_one(
                {"_id": technician_id, **guard},
                {"$set": changes, "$setOnInsert": self._defaults(account_id, changes)},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return bool(result.modified_count or result.upserted_id)

    async def ensure(self, technician_id: str, account_id: str, company_ids: list[str]) -> None:
        """Makes sure a technician known only from their token has a document."""
        await self.collection.update_one(
            {"_id": technician_id},
            {"$setOnInsert": {**self._defaults(account_id, {}), "company_ids": company_ids}},
            upsert=True,
        )

    async def eligible(self, company_id: str) -> list[Doc]:
        """Available, enabled technicians of the company (capacity is checked by the caller)."""
        cursor = self.collection.find({"company_ids": company_id, "available": True, "enabled": True})
        return [d async for d in cursor]

    async def claim_slot(
        self, technician: Doc, request_id: str, now: datetime, *, company_id: str | None
    ) -> SlotClaim:
        """Takes one capacity slot for `request_id`; `company_id` also requires availability.

        Only the caller that added the slot may give it back, so a slot already held for
        this request (a concurrent claimer, or one that crashed) is never reported as ours.
        """
        capacity = technician.get("capacity", self._default_capacity)
        query: dict[str, Any] = {
            "_id": technician["_id"],
            "enabled": True,
            "capacity": capacity,
            "active": {"$ne": request_id},
            f"active.{capacity - 1}": {"$exists": False},
        }
        if company_id is not None:
            query |= {"available": True, "company_ids": company_id}
        result = await self.collection.update_one(
            query,
            {"$push": {"active": request_id}, "$set": {"last_assigned_at": now, f"claimed_at.{request_id}": now}},
        )
        if result.modified_count:
            return SlotClaim.CLAIMED
        if await self.collection.count_documents({"_id": technician["_id"], "active": request_id}):
            return SlotClaim.HELD
        return SlotClaim.FULL

    async def release_slot(
        self, technician_id: str, request_id: str, *, claimed_at: datetime | None = None
    ) -> None:
        """Gives a slot back; with `claimed_at`, only the slot of that very claim.

        A claimer that lost its request claim after a long stall must not free the slot a
        later claim for the same request now holds (that would let capacity be exceeded).
        """
        query: dict[str, Any] = {"_id": technician_id, "active": request_id}
        if claimed_at is not None:
            # Stored dates keep milliseconds only: match the claim's millisecond.
            start = claimed_at.replace(microsecond=claimed_at.microsecond // 1000 * 1000)
            query[f"claimed_at.{request_id}"] = {"$gte": start, "$lt": start + timedelta(milliseconds=1)}
        await self.collection.update_one(
            query, {"$pull": {"active": request_id}, "$unset": {f"claimed_at.{request_id}": ""}}
        )

    async def holding_slots(self) -> list[Doc]:
        return [d async for d in self.collection.find({"active.0": {"$exists": True}})]

    async def claim_code_slot(self, technician_id: str, code_id: str, limit: int, now: datetime) -> bool:
        result = await self.collection.update_one(
            {"_id": technician_id, f"code_ids.{limit - 1}": {"$exists": False}},
            {"$addToSet": {"code_ids": code_id}, "$set": {f"code_claimed_at.{code_id}": now}},
        )
        return bool(result.modified_count)

    async def release_code_slot(self, technician_id: str, code_id: str) -> None:
        await self.collection.update_one(
            {"_id": technician_id},
            {"$pull": {"code_ids": code_id}, "$unset": {f"code_claimed_at.{code_id}": ""}},
        )

    async def holding_codes(self) -> list[Doc]:
        return [d async for d in self.collection.find({"code_ids.0": {"$exists": True}})]
