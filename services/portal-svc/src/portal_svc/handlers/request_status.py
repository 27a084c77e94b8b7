"""The customer-visible status of a request, moved by dispatch and chat events.

Events may arrive late, twice or out of order; `domain.requests` says which status may
follow which, and the repository applies each move once, conditionally. Each move returns
the request as it left it (None when it did not apply): the supervisor dashboard reads its
live state and its figures from these records.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    RequestAssigned,
    RequestCancelled,
    RequestOffered,
    RequestQueued,
    RequestRejected,
)
from portal_svc.adapters.mongo import Doc
from portal_svc.adapters.requests import RequestRepository
from portal_svc.domain.requests import MAY_FOLLOW, Status, ordered_by_time
from servicekit.logging import get_logger

log = get_logger(__name__)

Changed = Callable[[str], Awaitable[None]]
"""Tells the customer sockets of a company (on every replica) that its requests moved."""


async def _nobody_listens(_company_id: str) -> None:
    return None


class RequestStatus:
    def __init__(self, requests: RequestRepository, changed: Changed = _nobody_listens) -> None:
        self._requests = requests
        self.changed = changed

    async def _move(
        self, event: Envelope[Any], to: Status, fields: dict[str, Any], earliest: dict[str, Any] | None = None
    ) -> Doc | None:
        moved = await self._requests.move(
            event.data.request_id,
            allowed_from=frozenset(s.value for s in MAY_FOLLOW[to]),
            fields={"status": to.value, **fields},
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            newer_only=ordered_by_time(to),
            earliest=earliest,
        )
        if not moved:
            # Duplicate, stale, or about a request that already finished: nothing to change.
            log.info("request event without effect", request_id=event.data.request_id, to=to.value)
        else:
            # Any move changes the queue positions of the company's other customers too.
            await self.changed(event.data.company_id)
        return moved

    async def queued(self, event: Envelope[RequestQueued]) -> Doc | None:
        return await self._move(event, Status.QUEUED, {"queued_since": event.data.queued_since})

    async def offered(self, event: Envelope[RequestOffered]) -> Doc | None:
        return await self._move(event, Status.OFFERED, {"offer_expires_at": event.data.expires_at})

    async def assigned(self, event: Envelope[RequestAssigned]) -> Doc | None:
        fields = {"technician_id": event.data.technician_id, "assignment": event.data.assignment}
        # The customer's wait ends at the first assignment (a re-queued request was answered once).
        return await self._move(event, Status.ASSIGNED, fields, {"answered_at": event.data.assigned_at})

    async def rejected(self, event: Envelope[RequestRejected]) -> Doc | None:
        fields = {"rejection_reason": event.data.reason.value, "rejection_message": event.data.message}
        return await self._move(event, Status.REJECTED, fields)

    async def cancelled(self, event: Envelope[RequestCancelled]) -> Doc | None:
        """Cancelled by someone else than the customer (dispatch, for a deleted company): the
        customer's screen ends with the reason. The customer's own cancellation was applied
        when it was asked for, so its event changes nothing here."""
        if event.data.reason == "customer":
            return None
        fields = {"rejection_reason": event.data.reason, "rejection_message": event.data.message}
        return await self._move(event, Status.CANCELLED, fields)

    async def chat_started(self, event: Envelope[ChatSessionStarted]) -> Doc | None:
        fields = {
            "session_id": event.data.session_id,
            "technician_id": event.data.technician_id,
            "chat_started_at": event.occurred_at,
        }
        return await self._move(event, Status.CHAT_OPEN, fields)

    async def chat_ended(self, event: Envelope[ChatSessionEnded]) -> Doc | None:
        fields = {
            "session_id": event.data.session_id,
            "technician_id": event.data.technician_id,
            "ended_by": event.data.ended_by.value,
            "outcome": event.data.outcome.value,
        }
        # Its handling time (`status_at` − `chat_started_at`) is taken when the finished request
        # is archived (`Housekeeping`), a batch at a time: nothing extra on this path.
        return await self._move(event, Status.ENDED, fields)
