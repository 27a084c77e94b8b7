"""The `sessions` collection: the LIVE sessions — active ones, ended ones until they are
archived to `history` (see `adapters.history`), and markers of requests cancelled before
any assignment (deleted after a retention period).

Every change is one conditional single-document write on the expected current state,
carrying the events it causes (the outbox), so redeliveries and races resolve in the
database and never need a transaction. Hot paths address documents by `_id` only; the
scans (abandonment, archiving) are periodic and over a collection that stays small.
"""

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat_svc.adapters.messages import TIMELINE_FIELDS, append_step
from chat_svc.domain.model import ChatSession, SessionState
from contracts import Envelope
from contracts.vocabulary import EndedBy, SessionOutcome
from servicekit.outbox import OUTBOX, OutboxCollection, merge_updates


def to_session(document: dict[str, Any]) -> ChatSession:
    return ChatSession(
        session_id=document["_id"],
        request_id=document["request_id"],
        account_id=document["account_id"],
        company_id=document["company_id"],
        technician_id=document["technician_id"],
        customer_name=document.get("customer_name", ""),
        description=document.get("description", ""),
        assignment=document["assignment"],
        state=SessionState(document["state"]),
        opened_at=document["opened_at"],
        last_seq=document.get("last_seq", 0),
        ended_at=document.get("ended_at"),
        ended_by=EndedBy(document["ended_by"]) if document.get("ended_by") else None,
        outcome=SessionOutcome(document["outcome"]) if document.get("outcome") else None,
        notes=document.get("notes", ""),
        correlation_id=document.get("correlation_id", ""),
        bucket=document.get("bucket", 0),
        technician_joined=bool(document.get("technician_joined")),
        technician_name=document.get("technician_name", ""),
        awaiting_technician=bool(document.get("awaiting_technician")),
        guests=dict(document.get("guests") or {}),
    )


SESSION_FIELDS = {
    field: 1
    for field in (
        "request_id",
        "account_id",
        "company_id",
        "technician_id",
        "customer_name",
        "description",
        "assignment",
        "state",
        "opened_at",
        "ended_at",
        "ended_by",
        "outcome",
        "notes",
        "correlation_id",
        "bucket",
        "technician_joined",
        "technician_name",
        "awaiting_technician",
        "guests",
    )
}
"""What the handlers read of a session: not its messages (bucket 0, see `adapters.messages`),
outbox bookkeeping or per-replica socket counts."""

ARCHIVED = {OUTBOX: 0, "_outbox_lease": 0, "customers": 0}
"""A session as the history keeps it: with its messages."""


def replica_field(replica: str) -> str:
    # A replica id is a host name and more: dots would read as a path in an update.
    return "customers." + replica.replace(".", "_").replace("$", "_")


def _older_guest_step(technician_id: str, sequence: int) -> dict[str, Any]:
    """Filter: the last join or leave applied for this colleague is older than `sequence`."""
    key = f"guest_seq.{technician_id}"
    return {"$or": [{key: {"$lt": sequence}}, {key: {"$exists": False}}]}


class SessionRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self.writer = writer
        self.collection: AsyncCollection = writer.raw

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("company_id", ASCENDING), ("opened_at", DESCENDING)])
        await self.collection.create_index([("account_id", ASCENDING), ("opened_at", DESCENDING)])
        await self.collection.create_index([("state", ASCENDING), ("ended_at", ASCENDING)])

    async def get(self, session_id: str) -> ChatSession | None:
        document = await self.collection.find_one({"_id": session_id}, SESSION_FIELDS)
        if document is None or document["state"] == SessionState.CANCELLED:
            return None
        return to_session(document)

    async def raw(self, session_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": session_id}, SESSION_FIELDS)

    async def insert_open(self, fields: dict[str, Any], events: list[Envelope[Any]]) -> bool:
        """Open a session; False when a document for that request already exists."""
        try:
            await self.writer.insert(fields, events)
        except DuplicateKeyError:
            return False
        return True

    async def transfer(
        self, session_id: str, *, technician_id: str, assignment: int, technician_name: str = ""
    ) -> ChatSession | None:
        """Move an active session to a newer assignment; None when stale or ended."""
        changes = {
            "technician_id": technician_id,
            "assignment": assignment,
            "technician_joined": False,
            "technician_name": technician_name,
            "awaiting_technician": False,
        }
        document = await self.collection.find_one_and_update(
            {"_id": session_id, "state": SessionState.ACTIVE, "assignment": {"$lt": assignment}},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
            projection=SESSION_FIELDS,
        )
        return to_session(document) if document else None

    async def release(self, session_id: str, *, technician_id: str, assignment: int) -> ChatSession | None:
        """The technician sent the chat back to the queue: it waits for the next assignment.
        None when it is no longer that assignment (stale, repeated, or ended)."""
        document = await self.collection.find_one_and_update(
            {
                "_id": session_id,
                "state": SessionState.ACTIVE,
                "technician_id": technician_id,
                "assignment": assignment,
                "awaiting_technician": {"$ne": True},
            },
            {"$set": {"awaiting_technician": True}},
            return_document=ReturnDocument.AFTER,
            projection=SESSION_FIELDS,
        )
        return to_session(document) if document else None

    async def guest_joined(self, session_id: str, technician_id: str, name: str, sequence: int) -> ChatSession | None:
        """An invited colleague joins the active session; None when this join is not newer
        than the last join or leave applied for them (a redelivery, or overtaken by their
        leaving: the two travel on different queues), or the session ended."""
        document = await self.collection.find_one_and_update(
            {"_id": session_id, "state": SessionState.ACTIVE, **_older_guest_step(technician_id, sequence)},
            {"$set": {f"guests.{technician_id}": name, f"guest_seq.{technician_id}": sequence}},
            return_document=ReturnDocument.AFTER,
            projection=SESSION_FIELDS,
        )
        return to_session(document) if document else None

    async def guest_left(self, session_id: str, technician_id: str, sequence: int) -> tuple[ChatSession, bool] | None:
        """The colleague is no longer in the session (same ordering as `guest_joined`): the
        session after, and whether they were in it (a leave that overtook its join finds them
        not yet in: it is recorded all the same, so that the late join is ignored)."""
        before = await self.collection.find_one_and_update(
            {"_id": session_id, "state": SessionState.ACTIVE, **_older_guest_step(technician_id, sequence)},
            {"$unset": {f"guests.{technician_id}": ""}, "$set": {f"guest_seq.{technician_id}": sequence}},
            return_document=ReturnDocument.BEFORE,
            projection=SESSION_FIELDS,
        )
        if before is None:
            return None
        session = to_session(before)
        remaining = {key: name for key, name in session.guests.items() if key != technician_id}
        return replace(session, guests=remaining), technician_id in session.guests

    async def mark_cancelled(self, session_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Remember a cancellation that came before any session; returns the document as is."""
        document = await self.collection.find_one_and_update(
            {"_id": session_id},
            {"$setOnInsert": {**fields, "state": SessionState.CANCELLED}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            projection=SESSION_FIELDS,
        )
        # An upsert returning the document after the change always finds one.
        assert document is not None
        return dict(document)

    async def note_bucket(self, session_id: str, bucket: int) -> None:
        """Move the newest-bucket hint forward (once per full bucket)."""
        await self.collection.update_one({"_id": session_id}, {"$max": {"bucket": bucket}})

    async def technician_arrives(
        self,
        session_id: str,
        technician_id: str,
        notice: dict[str, Any],
        size: int,
        *,
        account_id: str,
        companies: Collection[str],
    ) -> dict[str, Any] | None:
        """The first join of the session's technician — who may act for its company
        (`companies` of `account_id`) and did not send it back to the queue — marked, with
        its notice stored in bucket 0, in one write; the session document after it (its
        messages included). None when it is not that: a later join, someone else, no
        access, ended, or bucket 0 is full."""
        step, update = append_step(notice, size)
        return await self.collection.find_one_and_update(
            {
                "_id": session_id,
                "state": SessionState.ACTIVE,
                "technician_id": technician_id,
                "technician_joined": {"$ne": True},
                "awaiting_technician": {"$ne": True},
                "account_id": account_id,
                "company_id": {"$in": sorted(companies)},
                **step,
            },
            {**update, "$set": {"technician_joined": True}},
            return_document=ReturnDocument.AFTER,
            projection={**SESSION_FIELDS, **TIMELINE_FIELDS},
        )

    async def claim_technician_join(self, session_id: str, technician_id: str) -> bool:
        """True for the first join of the current technician (worth a system message)."""
        result = await self.collection.update_one(
            {
                "_id": session_id,
                "state": SessionState.ACTIVE,
                "technician_id": technician_id,
                "technician_joined": {"$ne": True},
            },
            {"$set": {"technician_joined": True}},
        )
        return result.modified_count == 1

    async def end(
        self,
        session: ChatSession,
        *,
        ended_by: EndedBy,
        outcome: SessionOutcome,
        notes: str,
        at: datetime,
        events: Sequence[Envelope[Any]],
        extra_filter: dict[str, Any] | None = None,
        notice: dict[str, Any] | None = None,
        size: int = 0,
    ) -> tuple[ChatSession, int] | None:
        """Close `session` if it is still active with the same technician (a transfer in
        between makes this lose); its events are stored by the same write and published.

        With `notice`, the same write stores it as the closing notice in bucket 0 and seals
        it (and refuses when bucket 0 is full or sealed). Returns the session after, and the
        notice's number (0 when none was stored)."""
        filter: dict[str, Any] = {
            "_id": session.session_id,
            "state": SessionState.ACTIVE,
            "technician_id": session.technician_id,
            **(extra_filter or {}),
        }
        update: dict[str, Any] = {
            "$set": {
                "state": SessionState.COMPLETED,
                "ended_at": at,
                "ended_by": ended_by,
                "outcome": outcome,
                "notes": notes,
                "customer_away_since": None,
            }
        }
        if notice is not None:
            step, append = append_step(notice, size, close=True)
            filter.update(step)
            update = merge_updates(update, append)
        document = await self.writer.update(filter, update, events, projection={**SESSION_FIELDS, "n": 1})
        if document is None:
            return None
        return to_session(document), document.get("n", 0) if notice is not None else 0

    async def wrap_up(self, session_id: str, technician_id: str, outcome: SessionOutcome, notes: str) -> bool:
        """Records the outcome and notes of an ended session of `technician_id` (by `_id`)."""
        result = await self.collection.update_one(
            {"_id": session_id, "state": SessionState.COMPLETED, "technician_id": technician_id},
            {"$set": {"outcome": outcome, "notes": notes}},
        )
        return result.matched_count == 1

    async def customer_arrives(self, session_id: str, replica: str) -> dict[str, Any] | None:
        """Like `customer_joined`, returning bucket 0 of the messages (the history a joining
        socket reads) from the same write; None when the session is no longer active."""
        return await self.collection.find_one_and_update(
            {"_id": session_id, "state": SessionState.ACTIVE},
            {"$inc": {replica_field(replica): 1}, "$set": {"customer_away_since": None}},
            return_document=ReturnDocument.AFTER,
            projection=TIMELINE_FIELDS,
        )

    async def customer_joined(self, session_id: str, replica: str) -> None:
        """One more customer socket on `replica`; the customer is present again."""
        await self.collection.update_one(
            {"_id": session_id, "state": SessionState.ACTIVE},
            {"$inc": {replica_field(replica): 1}, "$set": {"customer_away_since": None}},
        )

    async def customer_left(self, session_id: str, replica: str) -> None:
        await self.collection.update_one(
            {"_id": session_id, "state": SessionState.ACTIVE}, {"$inc": {replica_field(replica): -1}}
        )

    async def set_customer_away(self, session_id: str, since: datetime | None, *, was: datetime | None) -> None:
        await self.collection.update_one(
            {"_id": session_id, "state": SessionState.ACTIVE, "customer_away_since": was},
            {"$set": {"customer_away_since": since}},
        )

    async def active_count(self) -> int:
        """Sessions open now (a periodic metric read)."""
        return await self.collection.count_documents({"state": SessionState.ACTIVE})

    async def active(self) -> list[dict[str, Any]]:
        """Every active session (a periodic scan over the small live collection)."""
        return await self.collection.find(
            {"state": SessionState.ACTIVE}, {OUTBOX: 0, "_outbox_lease": 0, "messages": 0}
        ).to_list()

    async def finished(self, before: datetime, limit: int) -> list[dict[str, Any]]:
        """Ended sessions ready to leave the live collection: ended before `before`, and
        with no event still waiting in their outbox."""
        return (
            await self.collection.find(
                {"state": SessionState.COMPLETED, "ended_at": {"$lte": before}, OUTBOX: {"$exists": False}},
                ARCHIVED,
            )
            .limit(limit)
            .to_list()
        )

    async def archivable(self, session_id: str) -> dict[str, Any] | None:
        """One session as the history keeps it (re-read after sealing it)."""
        return await self.collection.find_one({"_id": session_id}, ARCHIVED)

    async def delete_finished(self, ids: Sequence[str]) -> None:
        if ids:
            await self.collection.delete_many(
                {"_id": {"$in": list(ids)}, "state": SessionState.COMPLETED, OUTBOX: {"$exists": False}}
            )

    async def forget_cancelled(self, before: datetime) -> int:
        result = await self.collection.delete_many({"state": SessionState.CANCELLED, "cancelled_at": {"$lt": before}})
        return result.deleted_count

    async def search(self, query: dict[str, Any], *, state: SessionState | None, limit: int) -> Sequence[ChatSession]:
        states = [state] if state else [SessionState.ACTIVE, SessionState.COMPLETED]
        cursor = (
            self.collection.find({**query, "state": {"$in": states}}, SESSION_FIELDS)
            .sort("opened_at", DESCENDING)
            .limit(limit)
        )
        return [to_session(document) async for document in cursor]
