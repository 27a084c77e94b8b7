"""What dispatch remembers of deleted companies: that they take no request any more.

One small document per deleted company; deletions are rare admin actions, so the collection
stays small. Every submission asks, so the answer comes from an in-process copy of the whole
(short) list, read again every `ttl` seconds: the worker that consumes a deletion adds it at
once, and another worker may route a request of a just deleted company up to `ttl` seconds
later — nobody serves that company any more (its technicians lost it first), so the request
waits, and the sweeper cancels it (`Sweeper`, `CompanyDeletions.cancel_waiting`).
"""

import time
from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection


class DeletedCompanies:
    def __init__(self, collection: AsyncCollection, *, ttl: float = 10.0) -> None:
        self.collection = collection
        self._ttl = ttl
        self._copy: set[str] = set()
        self._read_at = float("-inf")

    async def ensure_indexes(self) -> None:
        """Read whole (and by `_id`) only."""

    async def record(self, company_id: str, account_id: str, at: datetime) -> None:
        await self.collection.update_one(
            {"_id": company_id}, {"$setOnInsert": {"account_id": account_id, "deleted_at": at}}, upsert=True
        )
        self._copy.add(company_id)

    async def all(self) -> frozenset[str]:
        """Every deleted company, as read at most `ttl` seconds ago (or recorded here since)."""
        if time.monotonic() - self._read_at >= self._ttl:
            read_at = time.monotonic()
            found = {doc["_id"] async for doc in self.collection.find({}, {"_id": 1})}
            self._copy |= found
            self._read_at = read_at
        return frozenset(self._copy)

    async def is_deleted(self, company_id: str) -> bool:
        return company_id in await self.all()
