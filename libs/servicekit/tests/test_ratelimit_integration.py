"""Shared limits: one budget for every replica, counted in MongoDB."""

import math
import time
import uuid

import pytest
from pymongo import AsyncMongoClient

from servicekit.errors import TooManyRequests
from servicekit.ratelimit import SharedLimiter

pytestmark = pytest.mark.integration


def window_start(seconds: float) -> float:
    """The start of the next window: a real time, so counters are not born expired (TTL)."""
    return (math.floor(time.time() / seconds) + 1) * seconds


@pytest.fixture
async def counters(real_backends):
    client: AsyncMongoClient = AsyncMongoClient(real_backends.mongodb_url)
    yield client[f"limits-{uuid.uuid4().hex[:8]}"]["limits"]
    await client.close()


async def test_two_replicas_share_one_budget(counters):
    # Two limiters on the same collection stand for two replicas of a service.
    one = SharedLimiter(counters, what="sign-in attempts", limit=5, window_seconds=60)
    two = SharedLimiter(counters, what="sign-in attempts", limit=5, window_seconds=60)
    await one.ensure_indexes()
    now = window_start(60)  # the previous window does not overlap
    for replica in (one, two, one, two, one):
        await replica.hit("10.0.0.1", now=now)
    with pytest.raises(TooManyRequests) as refused:
        await two.hit("10.0.0.1", now=now + 1)
    assert refused.value.retry_after == 59
    # Another address has its own budget.
    await one.hit("10.0.0.2", now=now + 1)


async def test_the_previous_window_still_counts_in_proportion(counters):
    limiter = SharedLimiter(counters, what="submissions", limit=4, window_seconds=10)
    start = window_start(10)
    for _ in range(4):
        await limiter.hit("k", now=start)
    # 2 s into the next window, 80 % of the previous window overlaps: 4 × 0.8 = 3.2 ≥ 4? no,
    # so one more is allowed, the next (1 + 3.2 ≥ 4) is refused.
    await limiter.hit("k", now=start + 12)
    with pytest.raises(TooManyRequests):
        await limiter.hit("k", now=start + 12)
    # Two windows later nothing of it counts.
    await limiter.hit("k", now=start + 30)


async def test_expired_counters_are_forgotten(counters):
    limiter = SharedLimiter(counters, what="codes", limit=3, window_seconds=1)
    await limiter.hit("k", now=time.time() - 10)
    assert await limiter.forget_expired() == 1
    assert await counters.count_documents({}) == 0
