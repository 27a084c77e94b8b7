"""The `messages` collection: offline messages waiting for an answer, with their events;
answered ones move to `messages_answered`, kept for the retention period.

The live collection holds only what the desk has not answered yet (plus the few answered
since the last archive batch), so listing a company's open messages costs what the open
work costs. The archive is read only when a technician opens the answered list (newest
first, a bounded page) or a message by `_id`; it expires after the configured retention.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection

from contracts import Envelope
from portal_svc.adapters.mongo import HIDDEN, Doc
from servicekit.outbox import OUTBOX, OutboxCollection

ARCHIVE_BATCH = 200
LIST_LIMIT = 100


class MessageRepository:
    def __init__(self, writer: OutboxCollection, answered: AsyncCollection) -> None:
        self._writer = writer
        self._live = writer.raw
        self._answered = answered

    async def ensure_indexes(self) -> None:
        await self._live.create_index([("company_id", ASCENDING), ("left_at", ASCENDING)])
        await self._live.create_index("status")
        await self._answered.create_index([("company_id", ASCENDING), ("answered_at", DESCENDING)])
        await self._answered.create_index("expires_at", expireAfterSeconds=0)

    async def insert(self, doc: Doc, events: Sequence[Envelope[Any]]) -> None:
        await self._writer.insert(doc, events)

    async def get(self, message_id: str) -> Doc | None:
        doc = await self._live.find_one({"_id": message_id}, HIDDEN)
        if doc is None:
            doc = await self._answered.find_one({"_id": message_id}, {"expires_at": 0})
        return doc

    async def open_for(self, company_ids: list[str]) -> list[Doc]:
        query = {"company_id": {"$in": company_ids}, "status": "open"}
        return await self._live.find(query, HIDDEN).sort("left_at", ASCENDING).limit(LIST_LIMIT).to_list()

    async def answered_for(self, company_ids: list[str], limit: int = 30) -> list[Doc]:
        """Recently answered: still live (not archived yet) and archived, newest first."""
        query = {"company_id": {"$in": company_ids}, "status": "answered"}
        live = await self._live.find(query, HIDDEN).to_list()
        cursor = self._answered.find(query, {"expires_at": 0}).sort("answered_at", DESCENDING).limit(limit)
        found = {doc["_id"]: doc for doc in [*await cursor.to_list(), *live]}
        return sorted(found.values(), key=lambda d: d["answered_at"], reverse=True)[:limit]

    async def mark(self, message_id: str, fields: Doc) -> None:
        """Bookkeeping (e-mail sent) on whichever collection holds the message now."""
        result = await self._live.update_one({"_id": message_id}, {"$set": fields})
        if not result.matched_count:
            await self._answered.update_one({"_id": message_id}, {"$set": fields})

    async def answer(self, message_id: str, fields: Doc, events: Sequence[Envelope[Any]]) -> Doc | None:
        """Records the reply (with its event) if the message is still open."""
        doc = await self._writer.update({"_id": message_id, "status": "open"}, {"$set": fields}, events)
        if doc is not None:
            doc.pop("_seen_events", None)
        return doc

    async def archive_answered(self, retention: timedelta) -> int:
        """Move answered messages whose reply went out and whose events are published."""
        done: Doc = {"status": "answered", "reply_sent_at": {"$exists": True}, OUTBOX: {"$exists": False}}
        batch = await self._live.find(done, HIDDEN).limit(ARCHIVE_BATCH).to_list()
        if not batch:
            return 0
        copies = [
            ReplaceOne({"_id": d["_id"]}, {**d, "expires_at": d["answered_at"] + retention}, upsert=True) for d in batch
        ]
        await self._answered.bulk_write(copies, ordered=False)
        result = await self._live.delete_many({"_id": {"$in": [d["_id"] for d in batch]}, **done})
        return result.deleted_count

    async def forget_answered(self, now: datetime) -> int:
        result = await self._answered.delete_many({"expires_at": {"$lt": now}})
        return result.deleted_count
