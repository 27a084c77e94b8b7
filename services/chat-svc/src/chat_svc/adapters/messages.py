"""Messages, kept with their session in numbered buckets: `<session_id>:b<n>` documents
holding up to `size` messages each (collection `messages` while the session is live, the
same documents in `history` afterwards).

Appending is ONE command addressed by `_id` — `$inc n` and `$push` in the same atomic
update, upserting the bucket when it is new — and the message's number comes out of it:
`seq = bucket * size + n`. Numbering and storing are therefore one step, so a message with a
number is always stored, and every lower number was stored before it (what lets a replica
fill a gap in the live frames from the store without ever finding a hole).

The same update refuses (its filter does not match, so the upsert hits the existing `_id`):
- a bucket that is full: the next bucket is tried;
- a closed bucket: the session ended (its closing notice sealed the newest bucket);
- a retry of a message whose client key is already in the bucket (a resend after a lost
  connection; the window is the newest bucket, so a retry straddling a bucket boundary is
  stored twice — bounded by `size` messages, and the client ids still tell them apart).

The bucket size is capped so a bucket stays far below MongoDB's 16 MB document limit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat_svc.domain.model import Author, Message, bucket_of, message_id

MAX_BUCKET_BYTES = 8_000_000
"""Half of MongoDB's document limit, for the worst case of full-length 4-byte characters."""


def bucket_size(wanted: int, max_message_chars: int) -> int:
    """`wanted`, lowered so `size` messages of the longest length fit in one document."""
    worst = max_message_chars * 4 + 512
    return max(1, min(wanted, MAX_BUCKET_BYTES // worst))


def bucket_id(session_id: str, bucket: int) -> str:
    return f"{session_id}:b{bucket}"


def client_key(author: Author, client_id: str) -> str:
    return f"{author.value}:{client_id}"


@dataclass(frozen=True)
class Appended:
    message: Message
    created: bool
    """False when the client key showed the message was stored before (`message` is that one)."""
    bucket: int


@dataclass(frozen=True)
class Timeline:
    """What one read of a session's buckets found."""

    messages: Sequence[Message]
    closed: bool
    """The newest bucket is sealed: the session has ended."""
    bucket: int
    """The newest bucket read."""
    bucket_ids: Sequence[str]


def _message(session_id: str, seq: int, entry: dict[str, Any]) -> Message:
    return Message(
        id=message_id(session_id, seq),
        session_id=session_id,
        seq=seq,
        author=Author(entry["author"]),
        text=entry["text"],
        sent_at=entry["sent_at"],
        client_id=entry.get("client_id"),
        author_name=entry.get("author_name", ""),
    )


class MessageRepository:
    def __init__(self, collection: AsyncCollection, *, size: int) -> None:
        self.collection = collection
        self.size = size

    async def ensure_indexes(self) -> None:
        # Every read and write is by `_id`: no secondary index.
        return None

    async def append(
        self,
        session_id: str,
        bucket: int,
        *,
        author: Author,
        text: str,
        sent_at: datetime,
        author_name: str = "",
        client_id: str | None = None,
        close: bool = False,
    ) -> Appended | None:
        """Store one message in the newest bucket from `bucket` on (a hint that may be
        behind); `close` seals the bucket with it. None when the session has ended."""
        key = client_key(author, client_id) if client_id else None
        entry: dict[str, Any] = {
            "author": author.value,
            "author_name": author_name,
            "text": text,
            "sent_at": sent_at,
            "client_id": client_id,
            "ckey": key,
        }
        for _ in range(10_000):
            filter: dict[str, Any] = {
                "_id": bucket_id(session_id, bucket),
                "n": {"$lt": self.size},
                "closed": {"$ne": True},
            }
            if key is not None:
                filter["messages.ckey"] = {"$ne": key}
            update: dict[str, Any] = {
                "$inc": {"n": 1},
                "$push": {"messages": entry},
                "$setOnInsert": {"session_id": session_id, "bucket": bucket},
            }
            if close:
                update["$set"] = {"closed": True}
            try:
                after = await self.collection.find_one_and_update(
                    filter, update, upsert=True, projection={"n": 1}, return_document=ReturnDocument.AFTER
                )
            except DuplicateKeyError:
                # The bucket exists but refused: find out why (rare: once per full bucket).
                document = await self.collection.find_one({"_id": bucket_id(session_id, bucket)})
                if document is None:
                    continue  # archived or raced away meanwhile: try again
                if document.get("closed"):
                    return None
                if key is not None:
                    for index, stored in enumerate(document.get("messages", [])):
                        if stored.get("ckey") == key:
                            seq = bucket * self.size + index + 1
                            return Appended(_message(session_id, seq, stored), created=False, bucket=bucket)
                if document.get("n", 0) >= self.size:
                    bucket += 1
                continue
            assert after is not None  # an upsert returning the document after always finds one
            seq = bucket * self.size + after["n"]
            return Appended(_message(session_id, seq, entry), created=True, bucket=bucket)
        raise RuntimeError(f"no bucket of {session_id} accepted a message")

    async def seal(self, session_id: str, bucket: int) -> None:
        """Close the newest bucket without a notice (a session ended by a crashed process)."""
        while True:
            document = await self.collection.find_one({"_id": bucket_id(session_id, bucket)}, {"n": 1, "closed": 1})
            if document is None or document.get("closed") or document.get("n", 0) < self.size:
                break
            bucket += 1
        await self.collection.update_one(
            {"_id": bucket_id(session_id, bucket)},
            {"$set": {"closed": True}, "$setOnInsert": {"session_id": session_id, "bucket": bucket, "n": 0}},
            upsert=True,
        )

    async def read(self, session_id: str, after: int = 0) -> Timeline:
        """Messages numbered above `after`, in order: one command per bucket read."""
        bucket = bucket_of(after + 1, self.size)
        messages: list[Message] = []
        closed = False
        ids: list[str] = []
        newest = bucket
        while True:
            document = await self.collection.find_one({"_id": bucket_id(session_id, bucket)})
            if document is None:
                break
            ids.append(document["_id"])
            newest = bucket
            for index, entry in enumerate(document.get("messages", [])):
                seq = bucket * self.size + index + 1
                if seq > after:
                    messages.append(_message(session_id, seq, entry))
            closed = bool(document.get("closed"))
            if closed or document.get("n", 0) < self.size:
                break
            bucket += 1
        return Timeline(messages=messages, closed=closed, bucket=newest, bucket_ids=ids)

    async def documents(self, session_id: str) -> list[dict[str, Any]]:
        """Every bucket document of a session, for archiving."""
        documents: list[dict[str, Any]] = []
        bucket = 0
        while True:
            document = await self.collection.find_one({"_id": bucket_id(session_id, bucket)})
            if document is None:
                return documents
            documents.append(document)
            if document.get("closed") or document.get("n", 0) < self.size:
                return documents
            bucket += 1

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            await self.collection.delete_many({"_id": {"$in": list(ids)}})
