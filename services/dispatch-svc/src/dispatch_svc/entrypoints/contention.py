"""`GET /api/dispatch/stats/contention`: where this worker collided with others (for operators
and the benchmark, which read each process directly; the gateway does not publish it)."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dispatch_svc.adapters.contention import CONTENTION


class ContentionView(BaseModel):
    lost_writes: int = Field(description="Conditional request writes that found the request changed.")
    held_slots: int = Field(description="Slot claims refused: another claim held the slot for that request.")
    retries: int = Field(description="Transient store errors retried in place.")
    step_backs: int = Field(description="Partitions handed over to the worker that owns them.")


def contention_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/stats/contention", summary="Collisions between dispatch workers, counted by this process")
    async def contention() -> ContentionView:
        return ContentionView(**CONTENTION.snapshot())

    return router
