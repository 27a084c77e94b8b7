"""The `history` collection: finished sessions and their message buckets, out of the live
collections, addressed by `_id` (`<session_id>` and `<session_id>:b<n>`, the same documents
they were while live) and deleted after the retention period.

Archiving is idempotent: a second archiver (another replica, a retry after a crash) finds
the documents already there and only finishes deleting the live copies.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from chat_svc.adapters.sessions import SESSION_FIELDS, to_session
from chat_svc.domain.model import ChatSession, SessionState

DUPLICATE_KEY = 11000


class HistoryRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        # Retention deletes by `ended_at`; listings of past sessions by company or account.
        await self.collection.create_index([("ended_at", ASCENDING)])
        await self.collection.create_index([("company_id", ASCENDING), ("opened_at", DESCENDING)], sparse=True)
        await self.collection.create_index([("account_id", ASCENDING), ("opened_at", DESCENDING)], sparse=True)

    async def get(self, session_id: str) -> ChatSession | None:
        document = await self.collection.find_one({"_id": session_id}, SESSION_FIELDS)
        return to_session(document) if document else None

    async def exists(self, session_id: str) -> bool:
        return await self.collection.find_one({"_id": session_id}, {"_id": 1}) is not None

    async def wrap_up(self, session_id: str, technician_id: str, outcome: str, notes: str) -> bool:
        """Like `SessionRepository.wrap_up`, for a session already archived."""
        result = await self.collection.update_one(
            {"_id": session_id, "state": SessionState.COMPLETED, "technician_id": technician_id},
            {"$set": {"outcome": outcome, "notes": notes}},
        )
        return result.matched_count == 1

    async def store(self, documents: Sequence[dict[str, Any]]) -> None:
        """Insert archived documents; those already archived are left as they are."""
        if not documents:
            return
        try:
            await self.collection.insert_many(list(documents), ordered=False)
        except BulkWriteError as error:
            others = [e for e in error.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY]
            if others:
                raise

    async def forget(self, before: datetime) -> int:
        """Delete what ended before `before` (sessions and their buckets alike)."""
        result = await self.collection.delete_many({"ended_at": {"$lt": before}})
        return result.deleted_count

    async def search(self, query: dict[str, Any], *, state: SessionState | None, limit: int) -> Sequence[ChatSession]:
        if state is SessionState.ACTIVE:
            return []
        cursor = (
            self.collection.find({**query, "state": SessionState.COMPLETED}, SESSION_FIELDS)
            .sort("opened_at", DESCENDING)
            .limit(limit)
        )
        return [to_session(document) async for document in cursor]
