"""Limits that hold as one budget across every replica of a service (sign-in, submissions,
code guessing): counted in the service's own MongoDB, one command per attempt.

Each key gets a counter per fixed window (`<what>:<key>:<window number>`). The allowance is
the sliding-window estimate many gateways use: the current window's count plus the previous
window's count weighted by how much of it still overlaps the sliding window — smooth at
window boundaries, without keeping a log of every attempt. Old counters are deleted by a
periodic clean-up (and by MongoDB's TTL monitor where there is one), so the collection holds
at most two windows' worth of keys.
"""

import math
import time
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from servicekit.errors import TooManyRequests


class SharedLimiter:
    def __init__(self, collection: AsyncCollection, *, what: str, limit: int, window_seconds: float) -> None:
        self._counters = collection
        self.what = what
        self.limit = limit
        self.window = window_seconds

    async def ensure_indexes(self) -> None:
        await self._counters.create_index("expires_at", expireAfterSeconds=0)

    async def hit(self, key: str, *, now: float | None = None) -> None:
        """Count one attempt; raise `TooManyRequests` (429) when the budget is spent.

        A refused attempt is counted too: hammering does not buy an earlier retry.
        """
        now = time.time() if now is None else now
        number = math.floor(now / self.window)
        expires = datetime.fromtimestamp((number + 2) * self.window, UTC)
        counter = await self._counters.find_one_and_update(
            {"_id": f"{self.what}:{key}:{number}"},
            {"$inc": {"n": 1}, "$setOnInsert": {"expires_at": expires}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        current = (counter or {"n": 1})["n"] - 1  # an upsert always returns the document
        previous = 0
        if current < self.limit:  # only then can the previous window decide
            earlier = await self._counters.find_one({"_id": f"{self.what}:{key}:{number - 1}"})
            previous = earlier["n"] if earlier else 0
        overlap = 1 - (now / self.window - number)
        if current + previous * overlap >= self.limit:
            retry = max(1, math.ceil((number + 1) * self.window - now))
            raise TooManyRequests(
                f"too many {self.what}: try again in {retry} s", code="rate_limited", retry_after=retry
            )

    async def forget_expired(self) -> int:
        """Delete counters of windows that no longer count (a periodic task)."""
        result = await self._counters.delete_many({"expires_at": {"$lt": datetime.now(UTC) - timedelta(seconds=1)}})
        return result.deleted_count
