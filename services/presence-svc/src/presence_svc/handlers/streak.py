"""Trustworthy presence: a technician who lets `limit` requests in a row go unanswered is set
unavailable ("missed requests") and must choose Available again; also the chats they have open.

What dispatch-svc's events say (each consumed from its own queue, so in any order, maybe twice):

- `RequestOffered` to a technician who already had an offer of the same request with an
  earlier expiry: the earlier one lapsed unanswered (dispatch offers again to whoever is
  still a candidate, without withdrawing). A miss.
- `RequestOfferWithdrawn` with reason `expired`: a Web offer lapsed and was not made again to
  them, or a Queue assignment was not acknowledged in time (back in the queue). A miss.
- `RequestAssigned` without an alert (the technician took a Web offer, or a Phone call):
  their own answer, the streak starts again. With an alert (Queue), it is a new ask.
- `RequestAcknowledged`: the technician acknowledged a Queue assignment in time: their answer,
  the streak starts again. Every miss keeps the time dispatch recorded it (`missed_at`, the
  latest), so an acknowledgement that arrives after a miss dispatch recorded later (another
  queue, another order) leaves that miss counted instead of erasing it.
- `ChatSessionEnded` ended by the technician: they answered that request.

Each miss is counted once: the write that counts it removes (or moves on) the ask it counts.
"""

from datetime import UTC, datetime, timedelta

from contracts import (
    ChatSessionEnded,
    Envelope,
    RequestAcknowledged,
    RequestAssigned,
    RequestCancelled,
    RequestOffered,
    RequestOfferWithdrawn,
)
from contracts.vocabulary import EndedBy, WithdrawalReason
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.domain.availability import ChosenStatus, Technician
from presence_svc.handlers.presence import PresenceHandlers
from servicekit.logging import get_logger

log = get_logger(__name__)


def missed_frame(missed: int) -> dict[str, object]:
    return {
        "type": "missed_requests",
        "missed": missed,
        "message": f"You missed {missed} requests in a row, so you were set to Unavailable. "
        "Choose Available when you are ready to take requests again.",
    }


class StreakHandlers:
    def __init__(
        self, technicians: TechnicianRepository, presence: PresenceHandlers, *, limit: int, retention: float = 900.0
    ) -> None:
        self.technicians = technicians
        self.presence = presence
        self.limit = limit
        """Misses in a row that stop a technician (0: never)."""
        self.retention = timedelta(seconds=retention)
        """How long a stale ask or a remembered end is kept (`prune`)."""

    async def prune(self) -> int:
        """Periodic: forgets what overtaken events left on the technicians (asks whose
        deadline passed long ago, ends remembered long ago), so their documents stay small."""
        return await self.technicians.prune(datetime.now(UTC) - self.retention)

    async def offered(self, event: Envelope[RequestOffered]) -> None:
        offer = event.data
        lapsed = await self.technicians.asked(
            offer.technician_ids, offer.request_id, offer.expires_at, at=event.occurred_at
        )
        for after in lapsed:
            await self._missed(after, event.correlation_id)

    async def assigned(self, event: Envelope[RequestAssigned]) -> Technician | None:
        """One write on the assignee (a chat open, and a new ask or their answer); they as
        stored after, for the caller's status frame."""
        data = event.data
        return await self.technicians.assigned(
            data.technician_id, data.request_id, ask_at=data.assigned_at if data.alert else None
        )

    async def acknowledged(self, event: Envelope[RequestAcknowledged]) -> None:
        data = event.data
        if not await self.technicians.acknowledged(data.technician_id, data.request_id, data.acknowledged_at):
            log.info("acknowledgement older than a miss: the miss stands", technician_id=data.technician_id)

    async def withdrawn(self, event: Envelope[RequestOfferWithdrawn]) -> None:
        data = event.data
        if data.reason is not WithdrawalReason.EXPIRED:
            # Taken by someone else, cancelled, or they became unavailable: nobody's miss.
            await self.technicians.forget_ask(data.technician_ids, data.request_id)
            return
        for technician_id in dict.fromkeys(data.technician_ids):
            await self.technicians.chat_closed(technician_id, data.request_id)  # a lapsed assignment
            after = await self.technicians.lapsed(technician_id, data.request_id, at=event.occurred_at)
            if after is not None:
                await self._missed(after, event.correlation_id)

    async def cancelled(self, event: Envelope[RequestCancelled]) -> None:
        technician_id = event.data.technician_id
        if technician_id:
            after = await self.technicians.chat_closed(
                technician_id, event.data.request_id, forget_ask=True, final=True
            )
            await self.presence.announce(technician_id, after)

    async def session_ended(self, event: Envelope[ChatSessionEnded]) -> None:
        data = event.data
        after = await self.technicians.chat_closed(
            data.technician_id, data.request_id, answered=data.ended_by is EndedBy.TECHNICIAN, final=True
        )
        await self.presence.announce(data.technician_id, after)

    async def _missed(self, technician: Technician, correlation_id: str) -> None:
        log.info("request unanswered", technician_id=technician.technician_id, missed=technician.missed)
        if self.limit <= 0 or technician.missed < self.limit or technician.chosen is not ChosenStatus.AVAILABLE:
            return
        if not await self.technicians.miss_and_stop(technician.technician_id, limit=self.limit):
            return  # chose Unavailable meanwhile, or another delivery stopped them already
        log.info("technician set unavailable: missed requests", technician_id=technician.technician_id)
        await self.presence.reconcile(technician.technician_id, correlation_id)
        await self.presence.channel.send(technician.technician_id, missed_frame(self.limit))
        await self.presence.announce(technician.technician_id)
