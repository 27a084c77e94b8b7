"""The `markers` collection: one-time steps already done (e.g. per deployment version)."""

from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection


class MarkerRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self._markers = collection

    async def ensure_indexes(self) -> None:
        """Markers are addressed by `_id` only."""

    async def is_set(self, marker: str) -> bool:
        return await self._markers.find_one({"_id": marker}, {"_id": 1}) is not None

    async def set(self, marker: str) -> None:
        await self._markers.update_one({"_id": marker}, {"$setOnInsert": {"at": datetime.now(UTC)}}, upsert=True)
