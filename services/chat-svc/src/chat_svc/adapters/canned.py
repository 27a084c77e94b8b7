"""The `canned_replies` collection: ONE document per scope owner (`account:<id>` or
`personal:<technician id>`), holding its replies by id and an index of its shortcuts.

Every command is by `_id`, so its cost does not depend on how many accounts there are, and
a shortcut's uniqueness within its scope is one conditional write (no unique index needed,
no read-then-write race): the filter requires the shortcut to be free.
"""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat_svc.domain.canned import MAX_PER_SCOPE, CannedReply, Scope
from chat_svc.domain.errors import CannedReplyNotFound, DuplicateShortcut, TooManyCannedReplies


def owner_key(scope: Scope, owner_id: str) -> str:
    return f"{scope.value}:{owner_id}"


def _key(shortcut: str) -> str:
    return shortcut.removeprefix("/")  # field-safe: [a-z0-9_-]


def _replies(scope: Scope, doc: dict[str, Any] | None) -> list[CannedReply]:
    replies = [
        CannedReply(reply_id, scope, raw["title"], raw["shortcut"], raw["text"])
        for reply_id, raw in ((doc or {}).get("replies") or {}).items()
    ]
    return sorted(replies, key=lambda r: r.shortcut)


class CannedReplyRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Nothing beyond `_id`: every command addresses one scope owner."""

    async def list(self, scope: Scope, owner_id: str) -> list[CannedReply]:
        return _replies(scope, await self.collection.find_one({"_id": owner_key(scope, owner_id)}))

    async def create(self, owner_id: str, reply: CannedReply) -> None:
        key = _key(reply.shortcut)
        try:
            await self.collection.update_one(
                {
                    "_id": owner_key(reply.scope, owner_id),
                    f"by_shortcut.{key}": {"$exists": False},
                    "count": {"$not": {"$gte": MAX_PER_SCOPE}},
                },
                {
                    "$set": {f"replies.{reply.reply_id}": _doc(reply), f"by_shortcut.{key}": reply.reply_id},
                    "$inc": {"count": 1},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # The document exists and refused: the shortcut is taken, or the scope is full.
            if reply.shortcut in {r.shortcut for r in await self.list(reply.scope, owner_id)}:
                raise DuplicateShortcut(f"{reply.shortcut} is already used by another reply here") from None
            raise TooManyCannedReplies(f"at most {MAX_PER_SCOPE} replies here; delete one first") from None

    async def replace(self, owner_id: str, reply: CannedReply) -> None:
        """Change a reply (title, shortcut, text); the new shortcut must be free in its scope."""
        for _ in range(3):
            current = {r.reply_id: r for r in await self.list(reply.scope, owner_id)}
            before = current.get(reply.reply_id)
            if before is None:
                raise CannedReplyNotFound("no such canned reply")
            filter: dict[str, Any] = {
                "_id": owner_key(reply.scope, owner_id),
                f"replies.{reply.reply_id}.shortcut": before.shortcut,
            }
            update: dict[str, Any] = {"$set": {f"replies.{reply.reply_id}": _doc(reply)}}
            if before.shortcut != reply.shortcut:
                if any(r.shortcut == reply.shortcut for r in current.values()):
                    raise DuplicateShortcut(f"{reply.shortcut} is already used by another reply here")
                filter[f"by_shortcut.{_key(reply.shortcut)}"] = {"$exists": False}
                update["$set"][f"by_shortcut.{_key(reply.shortcut)}"] = reply.reply_id
                update["$unset"] = {f"by_shortcut.{_key(before.shortcut)}": ""}
            if (await self.collection.update_one(filter, update)).matched_count == 1:
                return
        raise DuplicateShortcut(f"{reply.shortcut} was just taken by another reply here")

    async def delete(self, scope: Scope, owner_id: str, reply_id: str) -> None:
        before = {r.reply_id: r for r in await self.list(scope, owner_id)}.get(reply_id)
        if before is None:
            raise CannedReplyNotFound("no such canned reply")
        await self.collection.update_one(
            {"_id": owner_key(scope, owner_id), f"replies.{reply_id}": {"$exists": True}},
            {
                "$unset": {f"replies.{reply_id}": "", f"by_shortcut.{_key(before.shortcut)}": ""},
                "$inc": {"count": -1},
            },
        )


def _doc(reply: CannedReply) -> dict[str, str]:
    return {"title": reply.title, "shortcut": reply.shortcut, "text": reply.text}
