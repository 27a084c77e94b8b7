"""`/health` says the process is alive; `/ready` says it can do its work; `/stats` says what
it has cost so far (store commands, CPU, memory) — read-only, no secrets, for benchmarks."""

import asyncio
import resource
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from servicekit.mongo import STORE_STATS, CommandStats

Check = Callable[[], Awaitable[None]]


def process_usage() -> dict[str, float | int]:
    """CPU seconds (user + system) and resident memory of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 6),
        "rss_bytes": _rss_bytes(),
        "max_rss_bytes": usage.ru_maxrss * 1024,  # Linux reports KiB
    }


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:  # no /proc (not Linux): the peak is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def health_router(checks: dict[str, Check], *, timeout: float = 2.0, stats: CommandStats = STORE_STATS) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/ready", summary="Readiness: broker and database reachable")
    async def ready() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout)
                results[name] = "ok"
            except Exception as error:  # any failure means not ready, and says why
                results[name] = f"unavailable: {type(error).__name__}: {error}"[:300]
        ok = all(value == "ok" for value in results.values())
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "checks": results},
            status_code=200 if ok else 503,
        )

    @router.get("/stats", summary="Store commands so far (PyMongo command monitoring), CPU and memory")
    async def process_stats() -> dict[str, Any]:
        return {"store": stats.snapshot(), "process": process_usage()}

    return router
