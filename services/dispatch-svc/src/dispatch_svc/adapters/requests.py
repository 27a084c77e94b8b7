"""Live requests and their history, in MongoDB: every query on them lives here.

Every change is one conditional single-document write guarded by the document's `rev`
(optimistic concurrency, no transactions), carrying the events it causes in the outbox.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from contracts import Envelope
from dispatch_svc.domain.request import FINISHED, Change, State
from servicekit.outbox import OUTBOX, OutboxCollection

Doc = dict[str, Any]

DUPLICATE_KEY = 11000

NOT_STAGED = {f"{OUTBOX}.0": {"$exists": False}}
"""Filter: the document's events are all published."""


class RequestRepository:
    def __init__(self, live: OutboxCollection, history: AsyncCollection) -> None:
        self.live = live
        self.history = history

    async def ensure_indexes(self) -> None:
        await self.live.raw.create_index([("company_id", ASCENDING), ("state", ASCENDING)])
        await self.live.raw.create_index([("state", ASCENDING), ("technician_id", ASCENDING)])

    async def get(self, request_id: str) -> Doc | None:
        return await self.live.raw.find_one({"_id": request_id})

    async def archived(self, request_id: str) -> Doc | None:
        return await self.history.find_one({"_id": request_id})

    async def live_or_archived(self, request_id: str) -> Doc | None:
        return await self.get(request_id) or await self.archived(request_id)

    async def tombstone(self, request_id: str, fields: Doc) -> None:
        """Records the end of a request never seen live (its cancellation overtook it)."""
        await self.history.update_one({"_id": request_id}, {"$setOnInsert": fields}, upsert=True)

    async def insert_new(self, document: Doc) -> Doc:
        """Stores a submitted request once; a redelivery gets the stored (or archived) one back.

        The history is checked after the insert: archiving writes the history before it
        deletes the live document, so a redelivery racing an archive still sees it.
        """
        stored = {**document, "state": State.NEW, "rev": 0}
        try:
            await self.live.raw.insert_one(stored)
        except DuplicateKeyError:  # a redelivery: the first delivery stored it
            stored = await self.get(document["_id"]) or {}
        archived = await self.archived(document["_id"])
        if archived is not None:
            await self.live.raw.delete_one({"_id": document["_id"], "state": State.NEW, "rev": 0})
            return archived
        return stored

    async def apply(self, request: Doc, change: Change, events: Sequence[Envelope[Any]] = ()) -> Doc | None:
        """Applies `change` if nobody changed `request` since it was read; the request after,
        or None if someone did."""
        update: dict[str, dict[str, Any]] = {"$set": change.set, "$inc": {"rev": 1}}
        if change.unset:
            update["$unset"] = {field: "" for field in change.unset}
        return await self.live.update({"_id": request["_id"], "rev": request["rev"]}, update, events)

    async def apply_to_assignment(
        self, request_id: str, technician_id: str, change: Change, *, company_ids: list[str] | None = None
    ) -> Doc | None:
        """Applies `change` (a step from ASSIGNED) to the technician's assignment in one write,
        without reading it first; None when the request is not assigned to them."""
        query: Doc = {"_id": request_id, "state": State.ASSIGNED, "technician_id": technician_id}
        if company_ids is not None:
            query["company_id"] = {"$in": company_ids}
        update: dict[str, dict[str, Any]] = {"$set": change.set, "$inc": {"rev": 1}}
        if change.unset:
            update["$unset"] = {field: "" for field in change.unset}
        return await self.live.update(query, update)

    async def waiting(self, company_id: str) -> list[Doc]:
        """The company's line: its new and queued requests, FIFO fields only."""
        cursor = self.live.raw.find(
            {"company_id": company_id, "state": {"$in": [State.NEW, State.QUEUED]}},
            projection={"queued_since": 1, "state": 1},
        )
        return [d async for d in cursor]

    async def oldest_queued(self, company_id: str) -> Doc | None:
        cursor = self.live.raw.find({"company_id": company_id, "state": State.QUEUED})
        head = await cursor.sort([("queued_since", ASCENDING), ("_id", ASCENDING)]).limit(1).to_list()
        return head[0] if head else None

    async def open_offers(self, company_ids: list[str]) -> list[Doc]:
        return [d async for d in self.live.raw.find({"state": State.OFFERED, "company_id": {"$in": company_ids}})]

    async def companies_waiting(self) -> list[str]:
        """Companies with queued requests or open offers."""
        query: Doc = {"state": {"$in": [State.QUEUED, State.OFFERED]}}
        return sorted({d["company_id"] async for d in self.live.raw.find(query, projection={"company_id": 1})})

    async def waiting_states(self, company_ids: list[str]) -> set[tuple[str, str]]:
        """(company, state) of the queued requests and open offers of `company_ids`."""
        cursor = self.live.raw.find(
            {"state": {"$in": [State.QUEUED, State.OFFERED]}, "company_id": {"$in": company_ids}},
            projection={"company_id": 1, "state": 1},
        )
        return {(d["company_id"], d["state"]) async for d in cursor}

    async def offered_to(self, technician_id: str, company_ids: list[str] | None) -> list[Doc]:
        query: Doc = {"state": State.OFFERED, "offered_to": technician_id}
        if company_ids is not None:
            query["company_id"] = {"$in": company_ids}
        return [d async for d in self.live.raw.find(query)]

    async def unacknowledged_of(self, technician_id: str, company_ids: list[str] | None, mode: str) -> list[Doc]:
        query: Doc = {"state": State.ASSIGNED, "technician_id": technician_id, "mode": mode, "acknowledged": False}
        if company_ids is not None:
            query["company_id"] = {"$in": company_ids}
        return [d async for d in self.live.raw.find(query)]

    async def inbox(self, technician_id: str, company_ids: list[str]) -> list[Doc]:
        """Open offers made to the technician and requests assigned to them, oldest first."""
        cursor = self.live.raw.find(
            {
                "company_id": {"$in": company_ids},
                "$or": [
                    {"state": State.OFFERED, "offered_to": technician_id},
                    {"state": State.ASSIGNED, "technician_id": technician_id},
                ],
            }
        )
        return sorted([d async for d in cursor], key=lambda r: (r["submitted_at"], r["_id"]))

    async def due_for_repair(self, now: datetime, stuck: datetime) -> list[Doc]:
        """In one query: requests left new, offers past their expiry, assignments past their
        acknowledgement deadline."""
        cursor = self.live.raw.find(
            {
                "$or": [
                    {"state": State.NEW, "created_at": {"$lt": stuck}},
                    {"state": State.OFFERED, "offer_expires_at": {"$lt": now}},
                    {"state": State.ASSIGNED, "ack_deadline": {"$lt": now}},
                ]
            }
        )
        return [d async for d in cursor]

    async def archive(self, request_id: str) -> bool:
        """Moves a finished request whose events are all published to the history."""
        document = await self.live.raw.find_one({"_id": request_id, "state": {"$in": list(FINISHED)}, **NOT_STAGED})
        if document is None:
            return False
        await self._file(document)
        return True

    async def archive_finished(self) -> int:
        """Files every finished, fully published request in the history, in two bulk writes."""
        cursor = self.live.raw.find({"state": {"$in": list(FINISHED)}, **NOT_STAGED})
        documents = [{k: v for k, v in d.items() if not k.startswith("_outbox")} async for d in cursor]
        if not documents:
            return 0
        try:
            await self.history.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            # Already filed (an earlier archive stopped half way): the copy there is the same.
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise
        await self.live.raw.delete_many({"$or": [{"_id": d["_id"], "rev": d["rev"]} for d in documents]})
        return len(documents)

    async def _file(self, document: Doc) -> None:
        kept = {k: v for k, v in document.items() if not k.startswith("_outbox")}
        await self.history.replace_one({"_id": document["_id"]}, kept, upsert=True)
        await self.live.raw.delete_one({"_id": document["_id"], "rev": document["rev"]})
