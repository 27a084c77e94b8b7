"""The `ratings` collection: ONE document per rated session, `_id` = the session id.

"Once per session" is the `_id`'s uniqueness (an insert, no read-then-write race), and the
`ChatSessionRated` event rides on that insert (the outbox). Ratings live apart from the
session document on purpose: a finished session moves from `sessions` to `history` on its own
schedule, and a rating may come before or after that move. Kept as long as the history
keeps sessions (`history_retention_days`), so the collection stays bounded.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat_svc.domain.rating import Rating
from contracts import Envelope
from servicekit.outbox import OUTBOX, OutboxCollection

HIDDEN = {"_outbox": 0, "_outbox_lease": 0}


def _rating(document: dict[str, Any]) -> Rating:
    return Rating(document["_id"], document["score"], document.get("comment", ""), document["rated_at"])


class RatingRepository:
    def __init__(self, writer: OutboxCollection) -> None:
        self.writer = writer
        self.collection: AsyncCollection = writer.raw

    async def ensure_indexes(self) -> None:
        # Reads address sessions by `_id`; this one serves the periodic retention delete.
        await self.collection.create_index([("rated_at", ASCENDING)])

    async def forget(self, before: datetime) -> int:
        """Delete ratings older than the history's retention (the collection stays bounded)."""
        result = await self.collection.delete_many({"rated_at": {"$lt": before}, OUTBOX: {"$exists": False}})
        return result.deleted_count

    async def insert(self, rating: Rating, account_id: str, events: Sequence[Envelope[Any]]) -> bool:
        """Store the rating with its event; False when the session was already rated."""
        document = {
            "_id": rating.session_id,
            "account_id": account_id,
            "score": rating.score,
            "comment": rating.comment,
            "rated_at": rating.rated_at,
        }
        try:
            await self.writer.insert(document, events)
        except DuplicateKeyError:
            return False
        return True

    async def get(self, session_id: str) -> Rating | None:
        document = await self.collection.find_one({"_id": session_id}, HIDDEN)
        return _rating(document) if document else None

    async def of(self, session_ids: Sequence[str]) -> dict[str, Rating]:
        """The ratings of these sessions (a page of a list: at most a few hundred ids)."""
        if not session_ids:
            return {}
        cursor = self.collection.find({"_id": {"$in": list(session_ids)}}, HIDDEN)
        return {document["_id"]: _rating(document) async for document in cursor}
