"""Connection codes: live ones (unique code values), retired ones (used, expired, revoked),
and the wrong-code counters. Every query on them lives here."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from contracts import Envelope
from dispatch_svc.domain.codes import retired_status
from servicekit.outbox import OUTBOX, OutboxCollection

Doc = dict[str, Any]

NOT_STAGED = {f"{OUTBOX}.0": {"$exists": False}}


class CodeRepository:
    def __init__(self, live: OutboxCollection, retired: AsyncCollection, guards: AsyncCollection) -> None:
        self.live = live
        self.retired = retired
        self.guards = guards

    async def ensure_indexes(self) -> None:
        # Unique among live codes: a collision surfaces as DuplicateKeyError and a new draw.
        await self.live.raw.create_index("code", unique=True)
        await self.live.raw.create_index("technician_id")
        await self.retired.create_index("code")

    async def insert(self, document: Doc, events: Sequence[Envelope[Any]]) -> bool:
        """False when the code value is already live."""
        try:
            await self.live.insert(document, events)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, code_id: str) -> Doc | None:
        return await self.live.raw.find_one({"_id": code_id})

    async def by_value(self, code: str) -> tuple[Doc | None, Doc | None]:
        live = await self.live.raw.find_one({"code": code})
        retired = None
        if live is None:
            retired = await self.retired.find_one({"code": code}, sort=[("retired_at", DESCENDING)])
        return live, retired

    async def live_of(self, technician_id: str, company_ids: list[str], now: datetime) -> list[Doc]:
        cursor = self.live.raw.find(
            {
                "technician_id": technician_id,
                "company_id": {"$in": company_ids},
                "used_by": None,
                "revoked": False,
                "expires_at": {"$gt": now},
            }
        )
        return sorted([d async for d in cursor], key=lambda d: d["expires_at"])

    async def use(self, code_id: str, request_id: str, now: datetime) -> bool:
        """Single use: only one request ever gets the code (a redelivery gets it again)."""
        taken = await self.live.raw.find_one_and_update(
            {
                "_id": code_id,
                "revoked": False,
                "$or": [{"used_by": None, "expires_at": {"$gt": now}}, {"used_by": request_id}],
            },
            {"$set": {"used_by": request_id, "used_at": now}},
            projection={"_id": 1},
        )
        return taken is not None

    async def give_back(self, code_id: str, request_id: str) -> None:
        await self.live.raw.update_one({"_id": code_id, "used_by": request_id}, {"$set": {"used_by": None}})

    async def revoke(
        self, code_id: str, technician_id: str, company_ids: list[str], events: Sequence[Envelope[Any]]
    ) -> Doc | None:
        """Revokes the technician's unused code of one of `company_ids`; None when there is none."""
        return await self.live.update(
            {
                "_id": code_id,
                "technician_id": technician_id,
                "company_id": {"$in": company_ids},
                "used_by": None,
                "revoked": False,
            },
            {"$set": {"revoked": True}},
            events,
        )

    async def unused_of(self, technician_id: str, company_ids: list[str] | None) -> list[Doc]:
        """The technician's codes that could still connect someone (of `company_ids`, or all)."""
        query: Doc = {"technician_id": technician_id, "used_by": None, "revoked": False}
        if company_ids is not None:
            query["company_id"] = {"$in": company_ids}
        return [d async for d in self.live.raw.find(query)]

    async def retirable(self, now: datetime) -> list[Doc]:
        """Live codes that can no longer connect anyone and whose events are published."""
        cursor = self.live.raw.find(
            {**NOT_STAGED, "$or": [{"revoked": True}, {"used_by": {"$ne": None}}, {"expires_at": {"$lte": now}}]}
        )
        return [d async for d in cursor]

    async def retire(self, document: Doc, now: datetime) -> bool:
        """Files `document` (as read) among the retired codes and removes it from the live
        ones — only if it is still as read and has no event waiting: a code revoked meanwhile
        keeps its `ConnectionCodeRevoked` (and is retired as revoked by a later call)."""
        kept = {k: v for k, v in document.items() if not k.startswith("_outbox")}
        await self.retired.replace_one(
            {"_id": document["_id"]}, {**kept, "status": retired_status(document), "retired_at": now}, upsert=True
        )
        removed = await self.live.raw.delete_one(
            {
                "_id": document["_id"],
                "revoked": document.get("revoked", False),
                "used_by": document.get("used_by"),
                **NOT_STAGED,
            }
        )
        return bool(removed.deleted_count)

    async def exists(self, code_id: str) -> bool:
        return await self.live.raw.count_documents({"_id": code_id}) > 0

    async def failures(self, company_id: str, window: int) -> int:
        guard = await self.guards.find_one({"_id": f"{company_id}:{window}"})
        return guard["failures"] if guard else 0

    async def count_failure(self, company_id: str, window: int, event_id: str) -> None:
        """Counts one wrong code once, however often its event is redelivered."""
        try:
            await self.guards.update_one(
                {"_id": f"{company_id}:{window}", "events": {"$ne": event_id}},
                {
                    "$inc": {"failures": 1},
                    "$push": {"events": {"$each": [event_id], "$slice": -200}},
                    "$set": {"window": window},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return

    async def forget_failures_before(self, window: int) -> None:
        await self.guards.delete_many({"window": {"$lt": window}})
