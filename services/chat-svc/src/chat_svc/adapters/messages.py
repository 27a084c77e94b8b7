"""The `messages` collection: every chat line, numbered per session."""

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from chat_svc.domain.model import Author, Message


def to_message(document: dict[str, Any]) -> Message:
    return Message(
        id=document["_id"],
        session_id=document["session_id"],
        seq=document["seq"],
        author=Author(document["author"]),
        text=document["text"],
        sent_at=document["sent_at"],
        client_id=document.get("client_id"),
        author_name=document.get("author_name", ""),
    )


class MessageRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("session_id", ASCENDING), ("seq", ASCENDING)], unique=True)

    async def add(self, message: Message) -> None:
        await self.collection.insert_one(
            {
                "_id": message.id,
                "session_id": message.session_id,
                "seq": message.seq,
                "author": message.author,
                "author_name": message.author_name,
                "text": message.text,
                "sent_at": message.sent_at,
                "client_id": message.client_id,
            }
        )

    async def get(self, message_id: str) -> Message | None:
        document = await self.collection.find_one({"_id": message_id})
        return to_message(document) if document else None

    async def by_client_id(self, session_id: str, author: Author, client_id: str) -> Message | None:
        document = await self.collection.find_one({"session_id": session_id, "author": author, "client_id": client_id})
        return to_message(document) if document else None

    async def after(self, session_id: str, seq: int = 0) -> Sequence[Message]:
        cursor = self.collection.find({"session_id": session_id, "seq": {"$gt": seq}}).sort("seq", ASCENDING)
        return [to_message(document) async for document in cursor]
