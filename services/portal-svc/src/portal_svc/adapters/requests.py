"""The `requests` collection: the customer's view of each live support request, with its
events; finished requests move to `requests_history`.

Dispatch and chat events move a request from status to status; each move is one conditional
update by `_id` that applies at most once (`consume_once`) and only from a status it may
follow. A finished request (ended, rejected, cancelled) no longer moves, so a periodic task
moves it, in batches, to the history collection: the live collection holds only requests in
flight (and the few finished since the last batch), so the queries that scan it — queue
positions, the dashboard's tiles, the outbox sweeper — cost what the live work costs, never
what the past costs.
History is only ever addressed by `_id` and expires after the configured retention.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReplaceOne, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from contracts import Envelope
from portal_svc.adapters.mongo import HIDDEN, Doc
from servicekit.outbox import OUTBOX, OutboxCollection, consume_once, merge_updates

ARCHIVE_BATCH = 500
UNFINISHED_FIELDS = {
    field: 1
    for field in (
        "status",
        "status_at",
        "submitted_at",
        "queued_since",
        "answered_at",
        "chat_started_at",
        "technician_id",
    )
}


class RequestRepository:
    def __init__(self, writer: OutboxCollection, history: AsyncCollection) -> None:
        self._writer = writer
        self._requests = writer.raw
        self._history = history

    async def ensure_indexes(self) -> None:
        await self._requests.create_index([("company_id", ASCENDING), ("status", ASCENDING)])
        await self._requests.create_index("status")
        # MongoDB's TTL monitor enforces the retention where there is one; the periodic
        # clean-up (`forget_history`) does it everywhere.
        await self._history.create_index("expires_at", expireAfterSeconds=0)

    async def insert(self, doc: Doc, events: Sequence[Envelope[Any]]) -> None:
        await self._writer.insert(doc, events)

    async def get(self, request_id: str) -> Doc | None:
        """Live first, then history: both by `_id`, whatever their size."""
        doc = await self._requests.find_one({"_id": request_id}, HIDDEN)
        if doc is None:
            doc = await self._history.find_one({"_id": request_id}, {"expires_at": 0})
        return doc

    async def move(
        self,
        request_id: str,
        *,
        allowed_from: frozenset[str],
        fields: Doc,
        event_id: object,
        occurred_at: datetime,
        newer_only: bool,
        earliest: Doc | None = None,
    ) -> Doc | None:
        """One conditional update: the move applies once, and only from an allowed status.
        Returns the request as the move left it (what the dashboard counts from, without a
        read of its own), or None when it did not apply. `earliest` fields keep their
        smallest value (`$min`)."""
        already, absorb = consume_once(event_id)
        query: Doc = {"_id": request_id, "status": {"$in": sorted(allowed_from)}, **already}
        if newer_only:
            query["status_at"] = {"$lt": occurred_at}
        keep_earliest = {"$min": earliest} if earliest else {}
        update = merge_updates({"$set": {**fields, "status_at": occurred_at}}, keep_earliest, absorb)
        return await self._requests.find_one_and_update(
            query, update, projection=HIDDEN, return_document=ReturnDocument.AFTER
        )

    async def unfinished_of(self, company_id: str, finished: frozenset[str]) -> list[Doc]:
        """The company's requests still in flight (the live collection holds no others for
        long): what the dashboard's tiles and the figures of unfinished requests come from."""
        return await self._requests.find(
            {"company_id": company_id, "status": {"$nin": sorted(finished)}}, UNFINISHED_FIELDS
        ).to_list()

    async def change_status(
        self, request_id: str, allowed_from: frozenset[str], fields: Doc, events: Sequence[Envelope[Any]]
    ) -> Doc | None:
        """Sets `fields` (with its events) if the request is still in one of `allowed_from`."""
        doc = await self._writer.update(
            {"_id": request_id, "status": {"$in": sorted(allowed_from)}}, {"$set": fields}, events
        )
        if doc is not None:
            doc.pop("_seen_events", None)
        return doc

    async def queue_position(self, company_id: str, queued_since: datetime, request_id: str) -> int:
        """Rank among the company's still-queued requests (ties broken by id, like a stable sort).

        Counts live requests only: history never takes part."""
        ahead = await self._requests.count_documents(
            {
                "company_id": company_id,
                "status": "queued",
                "$or": [
                    {"queued_since": {"$lt": queued_since}},
                    {"queued_since": queued_since, "_id": {"$lt": request_id}},
                ],
            }
        )
        return ahead + 1

    async def archive_finished(self, finished: frozenset[str], retention: timedelta) -> int:
        """Move one batch of finished requests to history; returns how many moved.

        A request still carrying unpublished events stays until the outbox has published
        them. Copy first, then delete: a crash in between leaves a copy that the next batch
        overwrites with the same content (the copy is an upsert by `_id`), never a loss.
        """
        done: Doc = {"status": {"$in": sorted(finished)}, OUTBOX: {"$exists": False}}
        batch = await self._requests.find(done, HIDDEN).limit(ARCHIVE_BATCH).to_list()
        if not batch:
            return 0
        copies = [
            ReplaceOne({"_id": doc["_id"]}, {**doc, "expires_at": doc["status_at"] + retention}, upsert=True)
            for doc in batch
        ]
        await self._history.bulk_write(copies, ordered=False)
        result = await self._requests.delete_many({"_id": {"$in": [doc["_id"] for doc in batch]}, **done})
        return result.deleted_count

    async def forget_history(self, now: datetime) -> int:
        """Delete history past its retention (a periodic task, not a hot path)."""
        result = await self._history.delete_many({"expires_at": {"$lt": now}})
        return result.deleted_count
