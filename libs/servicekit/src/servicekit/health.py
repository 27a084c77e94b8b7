"""`/health` says the process is alive; `/ready` says it can do its work."""

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

Check = Callable[[], Awaitable[None]]


def health_router(checks: dict[str, Check], *, timeout: float = 2.0) -> APIRouter:
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

    return router
