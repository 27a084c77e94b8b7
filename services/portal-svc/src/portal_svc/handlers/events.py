"""Reactions to other services' events: availability read model and request status."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    RequestAssigned,
    RequestOffered,
    RequestQueued,
    RequestRejected,
    TechnicianAvailable,
    TechnicianUnavailable,
)
from servicekit.logging import get_logger

from portal_svc.adapters.presence import fetch_snapshot
from portal_svc.domain.requests import MAY_FOLLOW, Status, ordered_by_time
from portal_svc.handlers.context import Context

log = get_logger(__name__)


async def technician_available(ctx: Context, data: TechnicianAvailable) -> bool:
    applied = await ctx.repo.record_availability(
        data.technician_id,
        data.sequence,
        {
            "account_id": data.account_id,
            "display_name": data.display_name,
            "company_ids": data.company_ids,
            "capacity": data.capacity,
            "available": True,
            "updated_at": datetime.now(UTC),
        },
    )
    if not applied:
        log.info("stale availability ignored", technician_id=data.technician_id, sequence=data.sequence)
    return applied


async def technician_unavailable(ctx: Context, data: TechnicianUnavailable) -> bool:
    applied = await ctx.repo.record_availability(
        data.technician_id,
        data.sequence,
        {"account_id": data.account_id, "available": False, "updated_at": datetime.now(UTC)},
    )
    if not applied:
        log.info("stale availability ignored", technician_id=data.technician_id, sequence=data.sequence)
    return applied


async def _move(ctx: Context, event: Envelope[Any], to: Status, fields: dict[str, Any]) -> bool:
    moved = await ctx.repo.move_request(
        event.data.request_id,
        allowed_from=frozenset(s.value for s in MAY_FOLLOW[to]),
        fields={"status": to.value, **fields},
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        newer_only=ordered_by_time(to),
    )
    if not moved:
        # Duplicate, stale, or about a request that already finished: nothing to change.
        log.info("request event without effect", request_id=event.data.request_id, to=to.value)
    return moved


async def request_queued(ctx: Context, event: Envelope[RequestQueued]) -> bool:
    return await _move(ctx, event, Status.QUEUED, {"queued_since": event.data.queued_since})


async def request_offered(ctx: Context, event: Envelope[RequestOffered]) -> bool:
    return await _move(ctx, event, Status.OFFERED, {"offer_expires_at": event.data.expires_at})


async def request_assigned(ctx: Context, event: Envelope[RequestAssigned]) -> bool:
    fields = {"technician_id": event.data.technician_id, "assignment": event.data.assignment}
    return await _move(ctx, event, Status.ASSIGNED, fields)


async def request_rejected(ctx: Context, event: Envelope[RequestRejected]) -> bool:
    fields = {"rejection_reason": event.data.reason.value, "rejection_message": event.data.message}
    return await _move(ctx, event, Status.REJECTED, fields)


async def chat_started(ctx: Context, event: Envelope[ChatSessionStarted]) -> bool:
    fields = {"session_id": event.data.session_id, "technician_id": event.data.technician_id}
    return await _move(ctx, event, Status.CHAT_OPEN, fields)


async def chat_ended(ctx: Context, event: Envelope[ChatSessionEnded]) -> bool:
    fields = {
        "session_id": event.data.session_id,
        "technician_id": event.data.technician_id,
        "ended_by": event.data.ended_by.value,
        "outcome": event.data.outcome.value,
    }
    return await _move(ctx, event, Status.ENDED, fields)


async def load_presence_snapshot(ctx: Context) -> int:
    """Seed the read model with who is available now; events keep it current afterwards."""
    asked_at = datetime.now(UTC)
    technicians = await fetch_snapshot(ctx.settings.presence_url, ctx.settings.jwt_secret.get_secret_value())
    for technician in technicians:
        await technician_available(ctx, technician)
    # Whoever we still think is available but presence did not list went away while we
    # were not listening — unless an event about them arrived after we asked.
    await ctx.repo.mark_missing_unavailable([t.technician_id for t in technicians], asked_at)
    return len(technicians)


async def bootstrap_availability_forever(ctx: Context) -> None:
    """Retry in the background until presence-svc answers; start-up never waits for it."""
    delay = ctx.settings.presence_retry_seconds
    while True:
        try:
            count = await load_presence_snapshot(ctx)
            log.info("availability snapshot loaded", technicians=count)
            return
        except Exception as error:  # unreachable, refusing, or answering nonsense: try later
            log.warning("presence snapshot failed; retrying", error=str(error)[:300], retry_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)
