"""The `company_waits` collection: per company, the last handling times of its chats.

One small document per company (addressed by `_id`), the last `sample_size` chat durations
in it: the queue's estimated wait reads it in one flat lookup, whatever the history. Samples
are added when finished requests are archived — one `$push` per company per batch, nothing
on a request's own path. A batch archived twice (a crash between its copy and its deletion)
adds its samples twice: a median over the last few chats barely notices.
"""

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from portal_svc.domain.waits import handling_times


class WaitRepository:
    def __init__(self, collection: AsyncCollection, *, sample_size: int) -> None:
        self._waits = collection
        self._size = sample_size

    async def ensure_indexes(self) -> None:
        """Addressed by `_id` only."""

    async def record(self, company_id: str, seconds: list[float]) -> None:
        await self._waits.update_one(
            {"_id": company_id}, {"$push": {"handling": {"$each": seconds, "$slice": -self._size}}}, upsert=True
        )

    async def record_finished(self, requests: list[dict[str, Any]]) -> None:
        for company_id, seconds in handling_times(requests).items():
            await self.record(company_id, seconds)

    async def recent_handling(self, company_id: str) -> list[float]:
        doc = await self._waits.find_one({"_id": company_id}, {"handling": 1})
        return list(doc.get("handling", [])) if doc else []
