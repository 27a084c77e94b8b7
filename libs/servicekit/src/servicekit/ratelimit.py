"""Limits that hold as one budget across every replica of a service (sign-in, submissions,
code guessing): counted in the service's own MongoDB, one command per attempt.

One document per key holds the current fixed window's count (`n`, window number `w`) and
the previous window's (`p`); one pipeline update rolls the window over and counts the attempt
atomically. The allowance is the sliding-window estimate many gateways use: the current
count plus the previous window's weighted by how much of it still overlaps the sliding
window — smooth at window boundaries, without a log of every attempt. Idle keys are deleted
by a periodic clean-up (and by MongoDB's TTL monitor where there is one).
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
        same_window = {"$eq": ["$w", number]}
        counter = await self._counters.find_one_and_update(
            {"_id": f"{self.what}:{key}"},
            [
                {
                    "$set": {
                        "p": {"$cond": [same_window, "$p", {"$cond": [{"$eq": ["$w", number - 1]}, "$n", 0]}]},
                        "n": {"$cond": [same_window, {"$add": ["$n", 1]}, 1]},
                        "w": number,
                        "expires_at": datetime.fromtimestamp((number + 2) * self.window, UTC),
                    }
                }
            ],
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        counter = counter or {"n": 1, "p": 0}  # an upsert always returns the document
        overlap = 1 - (now / self.window - number)
        if counter["n"] - 1 + counter["p"] * overlap >= self.limit:
            retry = max(1, math.ceil((number + 1) * self.window - now))
            raise TooManyRequests(
                f"too many {self.what}: try again in {retry} s", code="rate_limited", retry_after=retry
            )

    async def forget_expired(self) -> int:
        """Delete counters of windows that no longer count (a periodic task)."""
        result = await self._counters.delete_many({"expires_at": {"$lt": datetime.now(UTC) - timedelta(seconds=1)}})
        return result.deleted_count
