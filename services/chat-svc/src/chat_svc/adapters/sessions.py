"""The `sessions` collection: one document per request that reached a technician.

Every change is one conditional single-document write on the expected current state,
carrying the events it causes (the outbox), so redeliveries and races resolve in the
database and never need a transaction.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat_svc.domain.model import ChatSession, SessionState
from contracts import Envelope
from contracts.vocabulary import EndedBy, SessionOutcome
from servicekit.outbox import OutboxCollection


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
    )


# Outbox bookkeeping stays out of what the handlers read.
HIDDEN = {"_outbox": 0, "_outbox_lease": 0}


class SessionRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self.writer = writer
        self.collection: AsyncCollection = writer.raw

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("company_id", ASCENDING), ("opened_at", DESCENDING)])
        await self.collection.create_index([("account_id", ASCENDING), ("opened_at", DESCENDING)])
        await self.collection.create_index([("state", ASCENDING), ("customer_away_since", ASCENDING)])

    async def get(self, session_id: str) -> ChatSession | None:
        document = await self.collection.find_one({"_id": session_id}, HIDDEN)
        if document is None or document["state"] == SessionState.CANCELLED:
            return None
        return to_session(document)

    async def raw(self, session_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": session_id}, HIDDEN)

    async def insert_open(self, fields: dict[str, Any], events: list[Envelope[Any]]) -> bool:
        """Open a session; False when a document for that request already exists."""
        try:
            await self.writer.insert(fields, events)
        except DuplicateKeyError:
            return False
        return True

    async def transfer(self, session_id: str, *, technician_id: str, assignment: int) -> ChatSession | None:
        """Move an active session to a newer assignment; None when stale or ended."""
        document = await self.collection.find_one_and_update(
            {"_id": session_id, "state": SessionState.ACTIVE, "assignment": {"$lt": assignment}},
            {"$set": {"technician_id": technician_id, "assignment": assignment, "technician_joined": False}},
            return_document=ReturnDocument.AFTER,
            projection=HIDDEN,
        )
        return to_session(document) if document else None

    async def mark_cancelled(self, session_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Remember a cancellation that came before any session; returns the document as is."""
        document = await self.collection.find_one_and_update(
            {"_id": session_id},
            {"$setOnInsert": {**fields, "state": SessionState.CANCELLED}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            projection=HIDDEN,
        )
        # An upsert returning the document after the change always finds one.
        assert document is not None
        return dict(document)

    async def next_seq(self, session_id: str) -> int | None:
        """Reserve the next message number of an active session (None once it ended)."""
        document = await self.collection.find_one_and_update(
            {"_id": session_id, "state": SessionState.ACTIVE},
            {"$inc": {"last_seq": 1}},
            projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        return document["last_seq"] if document else None

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
        session_id: str,
        *,
        ended_by: EndedBy,
        outcome: SessionOutcome,
        notes: str,
        at: datetime,
        events_for: Callable[[ChatSession], Sequence[Envelope[Any]]],
        extra_filter: dict[str, Any] | None = None,
    ) -> ChatSession | None:
        """Close an active session, reserving the number of its closing notice.

        `events_for(session)` builds the events from the session as it is when it ends
        (its current technician); they are stored by the same write and published right after.
        """
        current = await self.collection.find_one(
            {"_id": session_id, "state": SessionState.ACTIVE, **(extra_filter or {})}, HIDDEN
        )
        if current is None:
            return None
        session = to_session(current)
        events = events_for(session)
        document = await self.writer.update(
            # The technician is part of the filter: a transfer in between makes this lose.
            {
                "_id": session_id,
                "state": SessionState.ACTIVE,
                "technician_id": session.technician_id,
                **(extra_filter or {}),
            },
            {
                "$set": {
                    "state": SessionState.COMPLETED,
                    "ended_at": at,
                    "ended_by": ended_by,
                    "outcome": outcome,
                    "notes": notes,
                    "customer_away_since": None,
                },
                "$inc": {"last_seq": 1},
            },
            events,
        )
        return to_session(document) if document else None

    async def set_customer_away(self, session_id: str, since: datetime | None) -> None:
        await self.collection.update_one(
            {"_id": session_id, "state": SessionState.ACTIVE}, {"$set": {"customer_away_since": since}}
        )

    async def active_of_technician(self, technician_id: str) -> list[str]:
        """Ids of the active sessions assigned to a technician."""
        cursor = self.collection.find({"state": SessionState.ACTIVE, "technician_id": technician_id}, {"_id": 1})
        return [document["_id"] async for document in cursor]

    async def abandoned(self, before: datetime) -> list[dict[str, Any]]:
        return await self.collection.find(
            {"state": SessionState.ACTIVE, "customer_away_since": {"$ne": None, "$lte": before}},
            {"_id": 1, "customer_away_since": 1},
        ).to_list()

    async def reset_presence(self, now: datetime) -> None:
        """After a restart no socket is open: every customer counts as away from now on."""
        await self.collection.update_many(
            {"state": SessionState.ACTIVE, "customer_away_since": None},
            {"$set": {"customer_away_since": now}},
        )

    async def search(self, query: dict[str, Any], *, state: SessionState | None, limit: int) -> Sequence[ChatSession]:
        states = [state] if state else [SessionState.ACTIVE, SessionState.COMPLETED]
        cursor = (
            self.collection.find({**query, "state": {"$in": states}}, HIDDEN).sort("opened_at", DESCENDING).limit(limit)
        )
        return [to_session(document) async for document in cursor]
