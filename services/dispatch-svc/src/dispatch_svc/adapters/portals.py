"""What dispatch remembers of portals: whether each one still accepts requests."""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from dispatch_svc.adapters.technicians import newer


class Portals:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def record(self, portal_id: str, revision: int, fields: dict[str, Any]) -> None:
        try:
            await self.collection.update_one(
                {"_id": portal_id, **newer("revision", revision)},
                {"$set": {**fields, "revision": revision}},
                upsert=True,
            )
        except DuplicateKeyError:
            return  # a newer revision is already stored

    async def get(self, portal_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": portal_id})
