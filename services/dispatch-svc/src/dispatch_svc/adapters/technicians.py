"""Technicians as dispatch sees them, and their capacity slots: every query on them.

A slot is an entry of `active`. Claiming one is a single conditional update that only
matches while `active` has fewer than `capacity` entries (`domain.technician.slot_filter`),
so capacity holds exactly whatever the number of workers, with no transaction.
`claimed_at.<request>` dates each slot; the request's `assigned_at` is the same date, which
names the very claim that holds the slot.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from dispatch_svc.adapters.contention import CONTENTION
from dispatch_svc.domain.technician import slot_filter

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


def _same_millisecond(field: str, at: datetime) -> dict[str, Any]:
    # Stored dates keep milliseconds only: match the claim's millisecond.
    start = at.replace(microsecond=at.microsecond // 1000 * 1000)
    return {field: {"$gte": start, "$lt": start + timedelta(milliseconds=1)}}


class TechnicianRepository:
    def __init__(self, collection: AsyncCollection, *, default_capacity: int) -> None:
        self.collection = collection
        self._default_capacity = default_capacity

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("company_ids")

    def _defaults(self, account_id: str, changes: Doc) -> Doc:
        """Fields a technician document starts with, except those `changes` sets."""
        defaults = {
            "account_id": account_id,
            "active": [],
            "code_ids": [],
            "company_ids": [],
            "available_for": [],
            "capacity": self._default_capacity,
            "enabled": True,
            "available": False,
        }
        return {k: v for k, v in defaults.items() if k not in changes}

    async def get(self, technician_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": technician_id})

    async def record_admin(
        self, technician_id: str, account_id: str, revision: int, fields: Doc
    ) -> tuple[bool, Doc | None]:
        """Applies a `TechnicianUpdated` (ordered by revision): (applied, the technician before)."""
        changes = {**fields, "revision": revision}
        try:
            before = await self.collection.find_one_and_update(
                {"_id": technician_id, **newer("revision", revision)},
                {"$set": changes, "$setOnInsert": self._defaults(account_id, changes)},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:  # an existing document did not match the guard: stale
            return False, None
        return True, before

    async def record_presence(
        self, technician_id: str, account_id: str, sequence: int, fields: Doc, *, admin_fields: Doc
    ) -> Doc | None:
        """Applies a presence event (ordered by sequence): the technician after, None when stale.

        `admin_fields` (companies, capacity) are written only while dispatch has never heard
        the admin's record: presence's copy of them may predate an access removal.
        """
        guard = newer("sequence", sequence)
        changes = {**fields, "sequence": sequence}
        after = await self.collection.find_one_and_update(
            {"_id": technician_id, "$and": [guard, {"revision": {"$exists": True}}]},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        if after is not None:
            return after
        # The admin's record is unknown yet (or the event is stale: the upsert then collides).
        changes |= admin_fields
        try:
            return await self.collection.find_one_and_update(
                {"_id": technician_id, "$and": [guard, {"revision": {"$exists": False}}]},
                {"$set": changes, "$setOnInsert": self._defaults(account_id, changes)},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return None

    async def ensure(self, technician_id: str, account_id: str, company_ids: list[str]) -> Doc:
        """The technician's document, created from their token when dispatch knows nothing yet."""
        technician = await self.collection.find_one_and_update(
            {"_id": technician_id},
            {"$setOnInsert": {**self._defaults(account_id, {}), "company_ids": company_ids}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert technician is not None  # an upsert returning the document after always finds one
        return technician

    async def eligible(self, company_id: str) -> list[Doc]:
        """Technicians routable for the company (`domain.technician.routable_for`); capacity
        is checked by the caller."""
        cursor = self.collection.find(
            {"company_ids": company_id, "available_for": company_id, "available": True, "enabled": True}
        )
        return [d async for d in cursor]

    async def claim_slot(
        self,
        technician_id: str,
        request_id: str,
        now: datetime,
        *,
        company_id: str,
        routable: bool,
        code_id: str | None = None,
    ) -> SlotClaim:
        """Takes one capacity slot for `request_id` at `now` if the technician may serve the
        company now (and, with `routable`, is available for it); with `code_id`, frees that
        code's slot in the same write.

        Only the caller that added the slot may give it back, so a slot already held for
        this request (a concurrent claimer, or one that crashed) is never reported as ours.
        """
        query = slot_filter(technician_id, request_id) | {"company_ids": company_id}
        if routable:
            query |= {"available": True, "available_for": company_id}
        update: Doc = {
            "$push": {"active": request_id},
            "$set": {"last_assigned_at": now, f"claimed_at.{request_id}": now},
        }
        if code_id is not None:
            update |= {"$pull": {"code_ids": code_id}, "$unset": {f"code_claimed_at.{code_id}": ""}}
        result = await self.collection.update_one(query, update)
        if result.modified_count:
            return SlotClaim.CLAIMED
        if await self.collection.count_documents({"_id": technician_id, "active": request_id}):
            CONTENTION.held_slots += 1
            return SlotClaim.HELD
        return SlotClaim.FULL

    async def release_slot(
        self, technician_id: str, request_id: str, *, claimed_at: datetime | None = None
    ) -> Doc | None:
        """Gives a slot back; with `claimed_at`, only the slot of that very claim. Returns the
        technician after, or None when no such slot was held.

        A claimer that lost its request claim after a long stall must not free the slot a
        later claim for the same request now holds (that would let capacity be exceeded).
        """
        query: Doc = {"_id": technician_id, "active": request_id}
        if claimed_at is not None:
            query |= _same_millisecond(f"claimed_at.{request_id}", claimed_at)
        return await self.collection.find_one_and_update(
            query,
            {"$pull": {"active": request_id}, "$unset": {f"claimed_at.{request_id}": ""}},
            return_document=ReturnDocument.AFTER,
        )

    async def available_count(self) -> int:
        """Technicians available to dispatch now (a periodic metric read)."""
        return await self.collection.count_documents({"available": True})

    async def holding_slots_or_codes(self) -> list[Doc]:
        """Technicians holding a capacity slot or a code slot, in one query (for the sweeper)."""
        query = {"$or": [{"active.0": {"$exists": True}}, {"code_ids.0": {"$exists": True}}]}
        return [d async for d in self.collection.find(query)]

    async def claim_code_slot(
        self, technician_id: str, code_id: str, limit: int, now: datetime, *, company_id: str
    ) -> bool:
        """Takes one of the technician's `limit` code slots if they may serve the company now
        (`domain.technician.may_serve`); False too when dispatch has no record of them."""
        result = await self.collection.update_one(
            {
                "_id": technician_id,
                "enabled": {"$ne": False},
                "company_ids": company_id,
                f"code_ids.{limit - 1}": {"$exists": False},
            },
            {"$addToSet": {"code_ids": code_id}, "$set": {f"code_claimed_at.{code_id}": now}},
        )
        return bool(result.modified_count)

    async def release_code_slot(self, technician_id: str, code_id: str) -> None:
        await self.collection.update_one(
            {"_id": technician_id},
            {"$pull": {"code_ids": code_id}, "$unset": {f"code_claimed_at.{code_id}": ""}},
        )
