"""Live requests and their history, in MongoDB.

Every change is one conditional single-document write guarded by the document's `rev`
(optimistic concurrency, no transactions), carrying the events it causes in the outbox.
"""

from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from contracts import Envelope
from servicekit.outbox import OUTBOX, Outbox, merge_updates

from dispatch_svc.domain.states import FINISHED, State

Doc = dict[str, Any]


class Requests:
    def __init__(self, live: AsyncCollection, history: AsyncCollection, outbox: Outbox) -> None:
        self.live = live
        self.history = history
        self._outbox = outbox

    async def create_indexes(self) -> None:
        await self.live.create_index([("company_id", ASCENDING), ("state", ASCENDING)])

    async def get(self, request_id: str) -> Doc | None:
        return await self.live.find_one({"_id": request_id})

    async def archived(self, request_id: str) -> Doc | None:
        return await self.history.find_one({"_id": request_id})

    async def tombstone(self, request_id: str, fields: Doc) -> None:
        """Records the end of a request never seen live (its cancellation overtook it)."""
        await self.history.update_one({"_id": request_id}, {"$setOnInsert": fields}, upsert=True)

    async def insert_new(self, document: Doc) -> Doc:
        """Stores a submitted request once; a redelivery gets the stored (or archived) one back.

        The history is checked after the insert: archiving writes the history before it
        deletes the live document, so a redelivery racing an archive still sees it.
        """
        with suppress(DuplicateKeyError):  # a redelivery: the first delivery stored it
            await self.live.insert_one({**document, "state": State.NEW, "rev": 0})
        archived = await self.archived(document["_id"])
        if archived is not None:
            await self.live.delete_one({"_id": document["_id"], "state": State.NEW, "rev": 0})
            return archived
        return await self.live.find_one({"_id": document["_id"]}) or {}

    async def transition(
        self, request: Doc, changes: dict[str, Any], events: list[Envelope[Any]], *, unset: tuple[str, ...] = ()
    ) -> Doc | None:
        """Applies `changes` if nobody changed `request` since it was read; None if someone did."""
        update: dict[str, dict[str, Any]] = {"$set": changes, "$inc": {"rev": 1}}
        if unset:
            update["$unset"] = {field: "" for field in unset}
        if events:
            update = merge_updates(update, self._outbox.stage(events))
        after = await self.live.find_one_and_update(
            {"_id": request["_id"], "rev": request["rev"]}, update, return_document=ReturnDocument.AFTER
        )
        if after is not None:
            await self._outbox.flush(self.live, request["_id"], events)
        return after

    async def oldest_queued(self, company_id: str) -> Doc | None:
        cursor = self.live.find({"company_id": company_id, "state": State.QUEUED})
        head = await cursor.sort([("queued_since", ASCENDING), ("_id", ASCENDING)]).limit(1).to_list()
        return head[0] if head else None

    async def waiting_ahead(self, request: Doc) -> dict[str, int]:
        """Per state, how many requests of the company still wait and joined before `request`."""
        others = self.live.find(
            {"company_id": request["company_id"], "state": {"$in": [State.NEW, State.QUEUED]}}
        )
        mine = (request["queued_since"], request["_id"])
        ahead = {State.NEW: 0, State.QUEUED: 0}
        async for other in others:
            if (other["queued_since"], other["_id"]) < mine:
                ahead[other["state"]] += 1
        return ahead

    async def open_offers(self, company_ids: list[str]) -> list[Doc]:
        return [d async for d in self.live.find({"state": State.OFFERED, "company_id": {"$in": company_ids}})]

    async def find(self, query: dict[str, Any]) -> list[Doc]:
        return [d async for d in self.live.find(query)]

    async def archive(self, request_id: str) -> bool:
        """Moves a finished request whose events are all published to the history."""
        document = await self.live.find_one(
            {"_id": request_id, "state": {"$in": list(FINISHED)}, f"{OUTBOX}.0": {"$exists": False}}
        )
        if document is None:
            return False
        kept = {k: v for k, v in document.items() if not k.startswith("_outbox")}
        await self.history.replace_one({"_id": request_id}, kept, upsert=True)
        await self.live.delete_one({"_id": request_id, "rev": document["rev"]})
        return True

    async def finished_ids(self) -> list[str]:
        cursor = self.live.find(
            {"state": {"$in": list(FINISHED)}, f"{OUTBOX}.0": {"$exists": False}}, projection={"_id": 1}
        )
        return [d["_id"] async for d in cursor]

    async def stale(self, state: State, field: str, before: datetime) -> list[Doc]:
        return [d async for d in self.live.find({"state": state, field: {"$lt": before}})]
