"""Messages, kept with their session in numbered buckets of up to `size` messages each.

Bucket 0 is the session document itself (fields `messages`, `n`, `closed`): a short chat —
the usual one — lives in ONE document, so the technician's arrival, each message and the
end (with its closing notice and its event) are one write each, and joining reads the
history with the session. Longer chats go on in `<session_id>:b<n>` documents (collection
`messages` while the session is live; both kinds in `history` afterwards).

Appending is ONE command addressed by `_id` — `$inc n` and `$push` in the same atomic
update, upserting a bucket after the first when it is new — and the message's number comes
out of it: `seq = bucket * size + n`. Numbering and storing are therefore one step, so a
message with a number is always stored, and every lower number was stored before it (what
lets a replica fill a gap in the live frames from the store without ever finding a hole).

The same update refuses (its filter does not match):
- a bucket that is full: the next bucket is tried;
- a closed bucket: the session ended (its closing notice sealed the newest bucket);
- a retry of a message whose client key is already in the bucket (a resend after a lost
  connection; the window is the newest bucket, so a retry straddling a bucket boundary is
  stored twice — bounded by `size` messages, and the client ids still tell them apart).

A session document without `n` was opened before bucket 0 moved into it: its bucket 0 is
`<session_id>:b0` like the others.

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

TIMELINE_FIELDS = {"messages": 1, "n": 1, "closed": 1}
"""What a bucket read needs of a session document (bucket 0)."""


def bucket_size(wanted: int, max_message_chars: int) -> int:
    """`wanted`, lowered so `size` messages of the longest length fit in one document."""
    worst = max_message_chars * 4 + 512
    return max(1, min(wanted, MAX_BUCKET_BYTES // worst))


def bucket_id(session_id: str, bucket: int) -> str:
    return f"{session_id}:b{bucket}"


def client_key(author: Author, client_id: str) -> str:
    return f"{author.value}:{client_id}"


def new_entry(
    author: Author, text: str, sent_at: datetime, *, author_name: str = "", client_id: str | None = None
) -> dict[str, Any]:
    """A message as a bucket stores it."""
    return {
        "author": author.value,
        "author_name": author_name,
        "text": text,
        "sent_at": sent_at,
        "client_id": client_id,
        "ckey": client_key(author, client_id) if client_id else None,
    }


def append_step(entry: dict[str, Any], size: int, *, close: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """(filter, update) fragments appending `entry` to a bucket document (a session document
    for bucket 0): it has room, is not sealed, and does not hold a retry of `entry`."""
    filter: dict[str, Any] = {"n": {"$lt": size}, "closed": {"$ne": True}}
    if entry["ckey"] is not None:
        filter["messages.ckey"] = {"$ne": entry["ckey"]}
    update: dict[str, Any] = {"$inc": {"n": 1}, "$push": {"messages": entry}}
    if close:
        update["$set"] = {"closed": True}
    return filter, update


def to_message(session_id: str, seq: int, entry: dict[str, Any]) -> Message:
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


def in_session(document: dict[str, Any]) -> bool:
    """Whether this session document holds bucket 0 itself."""
    return "n" in document


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


class MessageRepository:
    def __init__(self, sessions: AsyncCollection, buckets: AsyncCollection, *, size: int) -> None:
        self.sessions = sessions
        """Where bucket 0 lives: the session documents."""
        self.collection = buckets
        """Where the buckets after the first live."""
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
        entry = new_entry(author, text, sent_at, author_name=author_name, client_id=client_id)
        step, update = append_step(entry, self.size, close=close)
        separate = False  # bucket 0 is `<session_id>:b0` (a session of the old layout)
        for _ in range(10_000):
            if bucket == 0 and not separate:
                after = await self.sessions.find_one_and_update(
                    {"_id": session_id, **step}, update, projection={"n": 1}, return_document=ReturnDocument.AFTER
                )
            else:
                try:
                    after = await self.collection.find_one_and_update(
                        {"_id": bucket_id(session_id, bucket), **step},
                        {**update, "$setOnInsert": {"session_id": session_id, "bucket": bucket}},
                        upsert=True,
                        projection={"n": 1},
                        return_document=ReturnDocument.AFTER,
                    )
                except DuplicateKeyError:
                    after = None
            if after is not None:
                seq = bucket * self.size + after["n"]
                return Appended(to_message(session_id, seq, entry), created=True, bucket=bucket)
            # The bucket refused: find out why (rare: once per full bucket, or a retry).
            document = await self._bucket(session_id, bucket, separate)
            if document is None:
                if bucket == 0 and not separate:
                    return None  # no session (archived): it has ended
                continue  # archived or raced away meanwhile: try again
            if bucket == 0 and not separate and not in_session(document):
                separate = True
                continue
            if document.get("closed"):
                return None
            if entry["ckey"] is not None:
                for index, stored in enumerate(document.get("messages", [])):
                    if stored.get("ckey") == entry["ckey"]:
                        seq = bucket * self.size + index + 1
                        return Appended(to_message(session_id, seq, stored), created=False, bucket=bucket)
            if document.get("n", 0) >= self.size:
                bucket += 1
        raise RuntimeError(f"no bucket of {session_id} accepted a message")

    async def _bucket(self, session_id: str, bucket: int, separate: bool = False) -> dict[str, Any] | None:
        if bucket == 0 and not separate:
            return await self.sessions.find_one({"_id": session_id}, TIMELINE_FIELDS)
        return await self.collection.find_one({"_id": bucket_id(session_id, bucket)})

    async def seal(self, session_id: str, session: dict[str, Any]) -> None:
        """Close the newest bucket without a notice (a session ended by a crashed process);
        `session` is its document."""
        bucket, separate = 0, not in_session(session)
        document: dict[str, Any] | None = session
        while True:
            if document is None or document.get("closed") or document.get("n", 0) < self.size:
                break
            bucket += 1
            document = await self._bucket(session_id, bucket, separate)
        if bucket == 0 and not separate:
            await self.sessions.update_one({"_id": session_id}, {"$set": {"closed": True}})
            return
        await self.collection.update_one(
            {"_id": bucket_id(session_id, bucket)},
            {"$set": {"closed": True}, "$setOnInsert": {"session_id": session_id, "bucket": bucket, "n": 0}},
            upsert=True,
        )

    async def read(self, session_id: str, after: int = 0) -> Timeline:
        """Messages numbered above `after`, in order: one command per bucket read."""
        bucket = bucket_of(after + 1, self.size)
        first = await self._bucket(session_id, bucket)
        return await self._collect(session_id, after, bucket, first)

    async def read_from(self, session_id: str, document: dict[str, Any], after: int = 0) -> Timeline:
        """Like `read`, starting from the session document in hand (bucket 0): a short chat
        needs no further command."""
        return await self._collect(session_id, after, 0, document)

    async def _collect(self, session_id: str, after: int, bucket: int, document: dict[str, Any] | None) -> Timeline:
        messages: list[Message] = []
        closed = False
        ids: list[str] = []
        newest = bucket
        separate = False
        if bucket == 0 and document is not None and not in_session(document):
            separate = True
            document = await self._bucket(session_id, 0, separate)
        while document is not None:
            ids.append(document["_id"])
            newest = bucket
            for index, entry in enumerate(document.get("messages", [])):
                seq = bucket * self.size + index + 1
                if seq > after:
                    messages.append(to_message(session_id, seq, entry))
            closed = bool(document.get("closed"))
            if closed or document.get("n", 0) < self.size:
                break
            bucket += 1
            document = await self._bucket(session_id, bucket, separate)
        return Timeline(messages=messages, closed=closed, bucket=newest, bucket_ids=ids)

    async def overflow(self, session: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        """The bucket documents of a session besides its own document, for archiving (none
        for a short chat: no command), and whether its newest bucket is sealed."""
        session_id = session["_id"]
        documents: list[dict[str, Any]] = []
        separate = not in_session(session)
        newest = session
        bucket = 0
        if separate:
            legacy = await self._bucket(session_id, 0, separate)
            if legacy is None:
                return documents, False
            documents.append(legacy)
            newest = legacy
        while not newest.get("closed") and newest.get("n", 0) >= self.size:
            bucket += 1
            document = await self._bucket(session_id, bucket, separate)
            if document is None:
                break
            documents.append(document)
            newest = document
        return documents, bool(newest.get("closed"))

    async def delete(self, ids: Sequence[str]) -> None:
        if ids:
            await self.collection.delete_many({"_id": {"$in": list(ids)}})
