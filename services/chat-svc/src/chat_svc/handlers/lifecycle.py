"""A session's life: opened by an assignment, transferred, ended, abandoned, cancelled —
and, once ended, moved out of the live collections to the history."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from chat_svc.adapters.history import HistoryRepository
from chat_svc.adapters.messages import new_entry, to_message
from chat_svc.adapters.replicas import Replicas
from chat_svc.adapters.sessions import to_session
from chat_svc.domain.closing import CLOSE_NORMAL, CLOSE_POLICY
from chat_svc.domain.frames import message_frame, session_frame
from chat_svc.domain.model import Author, ChatSession, SessionState, session_id_for
from chat_svc.domain.rules import BACK_TO_QUEUE_NOTICE, end_notice, joined_notice, left_notice, transfer_notice
from chat_svc.handlers.ports import LiveSockets
from chat_svc.handlers.timeline import Timeline
from contracts import (
    ChatSessionEnded,
    ChatSessionStarted,
    Envelope,
    RequestAssigned,
    RequestCancelled,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestReturnedToQueue,
    RequestTransferred,
)
from contracts.vocabulary import EndedBy, SessionOutcome
from servicekit.logging import get_logger
from servicekit.runtime import Runtime

log = get_logger(__name__)

ARCHIVE_BATCH = 200


class Lifecycle:
    def __init__(
        self,
        runtime: Runtime,
        timeline: Timeline,
        history: HistoryRepository,
        replicas: Replicas,
        *,
        abandon_after: float,
        archive_after: float = 60.0,
        history_retention: float = 365 * 86400.0,
        cancelled_retention: float = 7 * 86400.0,
    ) -> None:
        self.runtime = runtime
        self.timeline = timeline
        self.sessions = timeline.sessions
        self.messages = timeline.messages
        self.history = history
        self.replicas = replicas
        self.hub: LiveSockets = timeline.hub
        self.abandon_after = timedelta(seconds=abandon_after)
        self.archive_after = timedelta(seconds=archive_after)
        self.history_retention = timedelta(seconds=history_retention)
        self.cancelled_retention = timedelta(seconds=cancelled_retention)

    async def on_assigned(self, event: Envelope[RequestAssigned]) -> None:
        data = event.data
        session_id = session_id_for(data.request_id)
        now = datetime.now(UTC)
        # A session leaves the live collection `archive_after` after it ended, so only an
        # assignment at least about that old can find its session archived: only then is the
        # history read (a fresh assignment, the usual case, costs no extra command).
        assigned_at = data.assigned_at if data.assigned_at.tzinfo else data.assigned_at.replace(tzinfo=UTC)
        if now - assigned_at > self.archive_after / 2 and await self.history.exists(session_id):
            log.info("assignment of an archived session ignored", session_id=session_id)
            return
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
            "bucket": 0,
            # Bucket 0 of the messages (see `adapters.messages`).
            "messages": [],
            "n": 0,
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
        await self.switch_technician(
            session_id, data.technician_id, data.assignment, "The chat was transferred to another technician."
        )

    async def on_transferred(self, event: Envelope[RequestTransferred]) -> None:
        """A colleague accepted the chat: they become its technician, under the new assignment."""
        data = event.data
        notice = transfer_notice(data.from_name, data.to_name)
        await self.switch_technician(
            session_id_for(data.request_id),
            data.to_technician_id,
            data.assignment,
            notice,
            technician_name=data.to_name,
        )

    async def on_colleague_joined(self, event: Envelope[RequestColleagueJoined]) -> None:
        """An invited colleague joined: they may open the chat from now on; everybody in it
        reads who joined (the transcript keeps the line)."""
        data = event.data
        session_id = session_id_for(data.request_id)
        session = await self.sessions.guest_joined(session_id, data.technician_id, data.name, data.sequence)
        if session is None:
            log.info("stale or repeated colleague join ignored", session_id=session_id)
            return
        notice = await self.timeline.store(session_id, Author.SYSTEM, joined_notice(data.name), bucket=session.bucket)
        await self.hub.publish(
            session_id, [*([message_frame(notice.message)] if notice else []), session_frame(session)]
        )
        log.info("colleague joined the chat session", session_id=session_id, technician_id=data.technician_id)

    async def on_colleague_left(self, event: Envelope[RequestColleagueLeft]) -> None:
        """A colleague left (or the chat ended with them in it): they may no longer open or
        write in it; their sockets close after everybody read who left."""
        data = event.data
        session_id = session_id_for(data.request_id)
        result = await self.sessions.guest_left(session_id, data.technician_id, data.sequence)
        if result is None or not result[1]:
            log.info("stale, repeated or early colleague leave: nothing to tell", session_id=session_id)
            return
        session = result[0]
        notice = await self.timeline.store(session_id, Author.SYSTEM, left_notice(data.name), bucket=session.bucket)
        await self.hub.publish(
            session_id,
            [*([message_frame(notice.message)] if notice else []), session_frame(session)],
            close=(CLOSE_POLICY, "you left this chat"),
            close_author=Author.TECHNICIAN,
            close_person=data.technician_id,
        )
        log.info("colleague left the chat session", session_id=session_id, technician_id=data.technician_id)

    async def on_returned(self, event: Envelope[RequestReturnedToQueue]) -> None:
        """The technician sent the chat back to the queue: the customer is told and waits in the
        same chat; the technician's sockets close; the next assignment takes it over."""
        data = event.data
        session_id = session_id_for(data.request_id)
        session = await self.sessions.release(
            session_id, technician_id=data.from_technician_id, assignment=data.assignment
        )
        if session is None:
            log.info("stale or repeated return to the queue ignored", session_id=session_id)
            return
        notice = await self.timeline.store(session_id, Author.SYSTEM, BACK_TO_QUEUE_NOTICE, bucket=session.bucket)
        await self.hub.publish(
            session_id,
            [message_frame(notice.message)] if notice else [],
            close=(CLOSE_POLICY, "chat sent back to the queue"),
            close_author=Author.TECHNICIAN,
            close_person=data.from_technician_id,
        )
        log.info("chat session back in the queue", session_id=session_id)

    async def switch_technician(
        self, session_id: str, technician_id: str, assignment: int, notice_text: str, *, technician_name: str = ""
    ) -> None:
        """Moves an active session to a newer assignment: the line is stored and sent to
        everyone on the session (the technician leaving included), then the sockets of the
        technician who left are closed. A stale or repeated assignment changes nothing."""
        before = await self.sessions.get(session_id)
        session = await self.sessions.transfer(
            session_id, technician_id=technician_id, assignment=assignment, technician_name=technician_name
        )
        if session is None or before is None:
            log.info("stale or repeated assignment ignored", session_id=session_id)
            return
        if before.technician_id == session.technician_id:
            return
        notice = await self.timeline.store(session_id, Author.SYSTEM, notice_text, bucket=session.bucket)
        frames = [message_frame(notice.message)] if notice else []
        await self.hub.publish(
            session_id,
            [*frames, session_frame(session)],
            close=(CLOSE_POLICY, "session transferred to another technician"),
            close_author=Author.TECHNICIAN,
            close_person=before.technician_id,
        )
        log.info("chat session transferred", session_id=session_id, technician_id=technician_id)

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
        known: ChatSession | None = None,
        reread: bool = True,
    ) -> ChatSession | None:
        """End an active session; None when it was not active (already ended, or not ours).

        `known` is the session as the caller read it (saves a read); when it turns out
        stale (a transfer meanwhile) the session is read again once, unless not `reread`."""
        ended: tuple[ChatSession, int] | None = None
        notice: dict[str, Any] | None = None
        if technician_id is not None:
            extra_filter = {**(extra_filter or {}), "awaiting_technician": {"$ne": True}}
        for attempt in range(2 if reread else 1):
            session = known if known is not None and attempt == 0 else await self.sessions.get(session_id)
            if session is None or not session.is_active:
                return None
            if technician_id is not None and (session.technician_id != technician_id or session.awaiting_technician):
                return None
            # The write stores ChatSessionEnded with the state change and publishes it; while
            # the chat is short, the closing notice (sealing the timeline) rides in it too.
            notice = None
            if self.timeline.bucket_hint(session_id, session.bucket) == 0:
                notice = new_entry(Author.SYSTEM, end_notice(ended_by), datetime.now(UTC))
            ended = await self._end_write(session, ended_by, outcome, notes, extra_filter, notice)
            if ended is None and notice is not None:
                # Bucket 0 is full (or the session changed): the notice goes to the newest bucket.
                notice = None
                ended = await self._end_write(session, ended_by, outcome, notes, extra_filter, None)
            if ended is not None or known is None:
                break
        if ended is None:
            return None
        closed, seq = ended
        self.timeline.forget(session_id)
        message = None
        if notice is not None and seq:
            message = to_message(session_id, seq, notice)
        else:
            # No message can follow the closing notice: it seals the newest bucket.
            stored = await self.timeline.store(
                session_id, Author.SYSTEM, end_notice(ended_by), bucket=closed.bucket, close=True
            )
            message = stored.message if stored is not None else None
        frames = []
        if message is not None:
            closed = replace(closed, last_seq=message.seq)
            frames.append(message_frame(message))
        frames.append(session_frame(closed))
        await self.hub.publish(session_id, frames, close=(CLOSE_NORMAL, "session ended"))
        log.info("chat session ended", session_id=session_id, ended_by=ended_by, outcome=outcome)
        return closed

    async def _end_write(
        self,
        session: ChatSession,
        ended_by: EndedBy,
        outcome: SessionOutcome,
        notes: str,
        extra_filter: dict[str, Any] | None,
        notice: dict[str, Any] | None,
    ) -> tuple[ChatSession, int] | None:
        return await self.sessions.end(
            session,
            ended_by=ended_by,
            outcome=outcome,
            notes=notes,
            at=datetime.now(UTC),
            events=[self._ended_event(session, ended_by, outcome)],
            extra_filter=extra_filter,
            notice=notice,
            size=self.messages.size,
        )

    def _ended_event(self, session: ChatSession, ended_by: EndedBy, outcome: SessionOutcome) -> Envelope[Any]:
        ended = ChatSessionEnded(
            session_id=session.session_id,
            request_id=session.request_id,
            account_id=session.account_id,
            company_id=session.company_id,
            technician_id=session.technician_id,
            ended_by=ended_by,
            outcome=outcome,
        )
        return self.runtime.event(ended, correlation_id=session.correlation_id or session.request_id)

    # Abandonment ----------------------------------------------------------------------

    async def abandon_due(self) -> int:
        """Track which customers are away (no socket on any live replica) and end every
        session whose customer has been away longer than allowed."""
        now = datetime.now(UTC)
        cutoff = now - self.abandon_after
        count = 0
        for document in await self.sessions.active():
            away = document.get("customer_away_since")
            present = self.replicas.total(document.get("customers")) > 0
            if present:
                if away is not None:
                    await self.sessions.set_customer_away(document["_id"], None, was=away)
                continue
            if away is None:
                await self.sessions.set_customer_away(document["_id"], now, was=None)
                continue
            if away.tzinfo is None:
                away = away.replace(tzinfo=UTC)
            if away > cutoff:
                continue
            # Same absence as observed: a customer who came back in between keeps the chat.
            session = to_session(document)
            observed = {"customer_away_since": document["customer_away_since"]}
            if await self.end(
                session.session_id, EndedBy.ABANDONED, SessionOutcome.UNKNOWN, extra_filter=observed, known=session
            ):
                count += 1
        return count

    async def abandon_tick(self) -> None:
        """One periodic abandonment check (run by `runtime.every`, see bootstrap)."""
        if count := await self.abandon_due():
            log.info("abandoned chat sessions ended", count=count)

    # Archiving ------------------------------------------------------------------------

    async def archive_due(self) -> int:
        """Move sessions ended more than `archive_after` ago, with their messages, to the
        history."""
        now = datetime.now(UTC)
        finished = await self.sessions.finished(now - self.archive_after, ARCHIVE_BATCH)
        bucket_ids: list[str] = []
        archived: list[dict[str, Any]] = []
        for document in finished:
            # A short chat is its session document alone: nothing more to read.
            buckets, sealed = await self.messages.overflow(document)
            if not sealed:
                # Ended by a process that died before its closing notice: seal it now.
                await self.messages.seal(document["_id"], document)
                document = await self.sessions.archivable(document["_id"]) or document
                buckets, _ = await self.messages.overflow(document)
            ended_at = document["ended_at"]
            archived.extend([document, *({**bucket, "ended_at": ended_at} for bucket in buckets)])
            bucket_ids.extend(bucket["_id"] for bucket in buckets)
        # Copied first, deleted after: a crash in between leaves copies the next run skips.
        await self.history.store(archived)
        await self.messages.delete(bucket_ids)
        await self.sessions.delete_finished([document["_id"] for document in finished])
        return len(finished)

    async def forget_due(self) -> None:
        """Delete history past retention and old cancellation markers (a periodic task:
        retention counts in days, so once in a while is enough)."""
        now = datetime.now(UTC)
        await self.history.forget(now - self.history_retention)
        await self.sessions.forget_cancelled(now - self.cancelled_retention)

    async def archive_tick(self) -> None:
        if count := await self.archive_due():
            log.info("ended chat sessions archived", count=count)
