"""Per-client-address limits: the budget lives in MongoDB (`servicekit.ratelimit.SharedLimiter`),
so it holds as one across every portal replica; this module says whose address it is."""

from typing import Protocol

from fastapi import Request


class Limit(Protocol):
    """What the use cases need of a limit: count one attempt, or raise `TooManyRequests`."""

    async def hit(self, key: str) -> None: ...


def client_address(request: Request) -> str:
    """The gateway appends the peer it saw to X-Forwarded-For; earlier entries are client-controlled."""
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if hops:
        return hops[-1]
    return request.client.host if request.client else "unknown"
