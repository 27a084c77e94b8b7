"""In-memory sliding-window limits per client address (one replica's view, enough against floods)."""

import time
from collections import deque

from fastapi import Request

from portal_svc.domain.errors import TooManyRequests


class SlidingWindowLimiter:
    def __init__(self, limit: int, window_seconds: float, *, what: str) -> None:
        self.limit = limit
        self.window = window_seconds
        self.what = what
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = max(1, int(hits[0] + self.window - now) + 1)
            raise TooManyRequests(
                f"too many {self.what} from your address: try again in {retry} s", code="rate_limited"
            )
        hits.append(now)
        if len(self._hits) > 10_000:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


def client_address(request: Request) -> str:
    """The gateway appends the peer it saw to X-Forwarded-For; earlier entries are client-controlled."""
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if hops:
        return hops[-1]
    return request.client.host if request.client else "unknown"
