"""A session's life: opened by an assignment, transferred, ended, abandoned, cancelled."""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from chat_svc.domain.closing import CLOSE_NORMAL, CLOSE_POLICY
from chat_svc.domain.frames import session_frame
from chat_svc.domain.model import Author, ChatSession, SessionState, session_id_for
from chat_svc.domain.rules import end_notice
from chat_svc.handlers.ports import LiveSockets
from chat_svc.handlers.timeline import Timeline
from contracts import ChatSessionEnded, ChatSessionStarted, Envelope, RequestAssigned, RequestCancelled
from contracts.vocabulary import EndedBy, SessionOutcome
from servicekit.logging import get_logger
from servicekit.runtime import Runtime

log = get_logger(__name__)


class Lifecycle:
    def __init__(self, runtime: Runtime, timeline: Timeline, *, abandon_after: float) -> None:
        self.runtime = runtime
        self.timeline = timeline
        self.sessions = timeline.sessions
        self.hub: LiveSockets = timeline.hub
        self.abandon_after = timedelta(seconds=abandon_after)

    async def on_assigned(self, event: Envelope[RequestAssigned]) -> None:
        data = event.data
        session_id = session_id_for(data.request_id)
        now = datetime.now(UTC)
        started = self.runtime.event(
            ChatSessionStarted(
                session_id=session_id,
                request_id=data.request_id,
                account_id=data.account_id,
                company_id=data.company_id,
                technician_id=data.technician_id,
            ),
            correlation_id=event.correlation_id,
        )
        fields = {
            "_id": session_id,
            "request_id": data.request_id,
            "account_id": data.account_id,
            "company_id": data.company_id,
            "technician_id": data.technician_id,
            "customer_name": data.customer_name,
            "description": data.description,
            "mode": data.mode,
            "assignment": data.assignment,
            "correlation_id": event.correlation_id,
            "state": SessionState.ACTIVE,
            "opened_at": now,
            "last_seq": 0,
            "technician_joined": False,
            # The customer has not connected yet: the abandonment clock starts now.
            "customer_away_since": now,
        }
        if await self.sessions.insert_open(fields, [started]):
            log.info("chat session opened", session_id=session_id, technician_id=data.technician_id)
            return
        existing = await self.sessions.raw(session_id)
        if existing and existing["state"] == SessionState.CANCELLED:
            log.info("assignment of a cancelled request ignored", session_id=session_id)
            return
        await self._transfer(session_id, data)

    async def _transfer(self, session_id: str, data: RequestAssigned) -> None:
        async with self.hub.ordered(session_id):
            before = await self.sessions.get(session_id)
            session = await self.sessions.transfer(
                session_id, technician_id=data.technician_id, assignment=data.assignment
            )
            if session is None or before is None:
                log.info("stale or repeated assignment ignored", session_id=session_id)
                return
            if before.technician_id == session.technician_id:
                return
            self.hub.close_all(
                session_id, CLOSE_POLICY, "session transferred to another technician", author=Author.TECHNICIAN
            )
            seq = await self.sessions.next_seq(session_id)
            if seq is not None:
                await self.timeline.store(
                    session_id, seq, Author.SYSTEM, "The chat was transferred to another technician."
                )
            session = await self.sessions.get(session_id) or session
            self.hub.broadcast(session_id, session_frame(session))
        log.info("chat session transferred", session_id=session_id, technician_id=data.technician_id)

    async def on_cancelled(self, event: Envelope[RequestCancelled]) -> None:
        data = event.data
        session_id = session_id_for(data.request_id)
        marker = {
            "request_id": data.request_id,
            "account_id": data.account_id,
            "company_id": data.company_id,
            "cancelled_at": datetime.now(UTC),
        }
        while True:
            if await self.end(session_id, EndedBy.CUSTOMER, SessionOutcome.UNKNOWN):
                return
            document = await self.sessions.mark_cancelled(session_id, marker)
            # An assignment may have opened the session between the two writes: end it then.
            if document["state"] != SessionState.ACTIVE:
                return

    async def end(
        self,
        session_id: str,
        ended_by: EndedBy,
        outcome: SessionOutcome,
        notes: str = "",
        *,
        extra_filter: dict[str, Any] | None = None,
        technician_id: str | None = None,
    ) -> ChatSession | None:
        """End an active session; None when it was not active (already ended, or not ours)."""
        filters = dict(extra_filter or {})
        if technician_id is not None:
            filters["technician_id"] = technician_id
        async with self.hub.ordered(session_id):
            # The write stores ChatSessionEnded with the state change and publishes it.
            session = await self.sessions.end(
                session_id,
                ended_by=ended_by,
                outcome=outcome,
                notes=notes,
                at=datetime.now(UTC),
                events_for=self._ended_events(ended_by, outcome),
                extra_filter=filters,
            )
            if session is None:
                return None
            await self.timeline.store(session_id, session.last_seq, Author.SYSTEM, end_notice(ended_by))
            self.hub.broadcast(session_id, session_frame(session))
            self.hub.close_all(session_id, CLOSE_NORMAL, "session ended")
        log.info("chat session ended", session_id=session_id, ended_by=ended_by, outcome=outcome)
        return session

    def _ended_events(
        self, ended_by: EndedBy, outcome: SessionOutcome
    ) -> Callable[[ChatSession], Sequence[Envelope[Any]]]:
        def build(session: ChatSession) -> list[Envelope[Any]]:
            ended = ChatSessionEnded(
                session_id=session.session_id,
                request_id=session.request_id,
                account_id=session.account_id,
                company_id=session.company_id,
                technician_id=session.technician_id,
                ended_by=ended_by,
                outcome=outcome,
            )
            return [self.runtime.event(ended, correlation_id=session.correlation_id or session.request_id)]

        return build

    async def abandon_due(self) -> int:
        """End every session whose customer has been away longer than allowed."""
        cutoff = datetime.now(UTC) - self.abandon_after
        count = 0
        for candidate in await self.sessions.abandoned(cutoff):
            # Same absence as observed: a customer who came back in between keeps the chat.
            away = {"customer_away_since": candidate["customer_away_since"]}
            if await self.end(candidate["_id"], EndedBy.ABANDONED, SessionOutcome.UNKNOWN, extra_filter=away):
                count += 1
        return count

    async def abandon_tick(self) -> None:
        """One periodic abandonment check (run by `runtime.every`, see bootstrap)."""
        if count := await self.abandon_due():
            log.info("abandoned chat sessions ended", count=count)
