"""The estimated wait of a queued request, from the company's recent handling times.

Each technician serving the company works the queue in parallel, so the people ahead of
the customer (position − 1) plus the customer's own turn, shared between them, each take
the median recent chat. A median, not a mean: one chat left open all afternoon must not
turn every estimate into hours. No recent chats means no estimate (rather than a guess).
"""

from collections.abc import Iterable, Mapping
from statistics import median
from typing import Any

MIN_ESTIMATE_SECONDS = 1
"""Short waits are worded "less than a minute" by the page; the figure itself stays honest."""


def estimate_wait(position: int, recent_handling_seconds: list[float], serving: int) -> int | None:
    if not recent_handling_seconds or position < 1:
        return None
    typical = median(recent_handling_seconds)
    rounds = -(-position // max(1, serving))  # ceil: the turns before this customer's is served
    return max(MIN_ESTIMATE_SECONDS, round(rounds * typical))


def newest_handling(buckets: Iterable[Mapping[str, Any]], size: int) -> list[float]:
    """The newest `size` chat durations of some day buckets (each keeps its own newest last)."""
    pooled = [seconds for bucket in sorted(buckets, key=lambda b: b["day"]) for seconds in bucket.get("handling", ())]
    return pooled[-size:]
