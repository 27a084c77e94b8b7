"""What dispatch remembers of deleted companies: that they take no request any more.

One small document per deleted company, found by `_id` only (a flat lookup on every
submission); deletions are rare admin actions, so the collection stays small.
"""

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection


class DeletedCompanies:
    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Addressed by `_id` only."""

    async def record(self, company_id: str, account_id: str, at: datetime) -> None:
        await self.collection.update_one(
            {"_id": company_id}, {"$setOnInsert": {"account_id": account_id, "deleted_at": at}}, upsert=True
        )

    async def is_deleted(self, company_id: str) -> bool:
        return await self.collection.find_one({"_id": company_id}, {"_id": 1}) is not None
