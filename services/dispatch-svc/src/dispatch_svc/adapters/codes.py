"""Connection codes: live ones (unique code values) and retired ones (used, expired, revoked)."""

from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from contracts import Envelope
from servicekit.outbox import OUTBOX, Outbox, merge_updates

Doc = dict[str, Any]


class Codes:
    def __init__(self, live: AsyncCollection, retired: AsyncCollection, guards: AsyncCollection, outbox: Outbox) -> None:
        self.live = live
        self.retired = retired
        self.guards = guards
        self._outbox = outbox

    async def create_indexes(self) -> None:
        # Unique among live codes: a collision surfaces as DuplicateKeyError and a new draw.
        await self.live.create_index("code", unique=True)
        await self.retired.create_index("code")

    async def insert(self, document: Doc, events: list[Envelope[Any]]) -> bool:
        """False when the code value is already live."""
        try:
            await self.live.insert_one({**document, **self._outbox.staged_fields(events)})
        except DuplicateKeyError:
            return False
        await self._outbox.flush(self.live, document["_id"], events)
        return True

    async def by_value(self, code: str) -> tuple[Doc | None, Doc | None]:
        live = await self.live.find_one({"code": code})
        retired = None
        if live is None:
            retired = await self.retired.find_one({"code": code}, sort=[("retired_at", DESCENDING)])
        return live, retired

    async def live_of(self, technician_id: str, now: datetime) -> list[Doc]:
        cursor = self.live.find(
            {"technician_id": technician_id, "used_by": None, "revoked": False, "expires_at": {"$gt": now}}
        )
        return sorted([d async for d in cursor], key=lambda d: d["expires_at"])

    async def use(self, code_id: str, request_id: str, now: datetime) -> bool:
        """Single use: only one request ever gets the code (a redelivery gets it again)."""
        result = await self.live.update_one(
            {"_id": code_id, "revoked": False, "expires_at": {"$gt": now}, "used_by": None},
            {"$set": {"used_by": request_id, "used_at": now}},
        )
        return bool(result.modified_count) or await self.live.count_documents(
            {"_id": code_id, "used_by": request_id}
        ) > 0

    async def give_back(self, code_id: str, request_id: str) -> None:
        await self.live.update_one({"_id": code_id, "used_by": request_id}, {"$set": {"used_by": None}})

    async def revoke(self, code_id: str, technician_id: str, events: list[Envelope[Any]]) -> Doc | None:
        document = await self.live.find_one_and_update(
            {"_id": code_id, "technician_id": technician_id, "used_by": None, "revoked": False},
            merge_updates({"$set": {"revoked": True}}, self._outbox.stage(events)),
            return_document=ReturnDocument.AFTER,
        )
        if document is not None:
            await self._outbox.flush(self.live, code_id, events)
        return document

    async def retirable(self, now: datetime) -> list[Doc]:
        """Live codes that can no longer connect anyone and whose events are published."""
        cursor = self.live.find(
            {
                f"{OUTBOX}.0": {"$exists": False},
                "$or": [{"revoked": True}, {"used_by": {"$ne": None}}, {"expires_at": {"$lte": now}}],
            }
        )
        return [d async for d in cursor]

    async def retire(self, document: Doc, now: datetime) -> None:
        status = "revoked" if document["revoked"] else "used" if document.get("used_by") else "expired"
        kept = {k: v for k, v in document.items() if not k.startswith("_outbox")}
        await self.retired.replace_one(
            {"_id": document["_id"]}, {**kept, "status": status, "retired_at": now}, upsert=True
        )
        await self.live.delete_one({"_id": document["_id"]})

    async def exists(self, code_id: str) -> bool:
        return await self.live.count_documents({"_id": code_id}) > 0

    async def failures(self, company_id: str, window: int) -> int:
        guard = await self.guards.find_one({"_id": f"{company_id}:{window}"})
        return guard["failures"] if guard else 0

    async def count_failure(self, company_id: str, window: int, event_id: str) -> None:
        """Counts one wrong code once, however often its event is redelivered."""
        try:
            await self.guards.update_one(
                {"_id": f"{company_id}:{window}", "events": {"$ne": event_id}},
                {"$inc": {"failures": 1}, "$push": {"events": {"$each": [event_id], "$slice": -200}},
                 "$set": {"window": window}},
                upsert=True,
            )
        except DuplicateKeyError:
            return

    async def forget_failures_before(self, window: int) -> None:
        await self.guards.delete_many({"window": {"$lt": window}})
