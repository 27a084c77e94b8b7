"""Live chat over sockets: who may join, what they may send, what they receive."""

import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from chat_svc.adapters.history import HistoryRepository
from chat_svc.adapters.hub import Connection
from chat_svc.adapters.messages import MessageRepository, new_entry, to_message
from chat_svc.adapters.messages import Timeline as Stored
from chat_svc.adapters.sessions import to_session
from chat_svc.config import Settings
from chat_svc.domain.access import customer_owns, is_guest, join_as, still_allowed
from chat_svc.domain.closing import ACCESS_REVOKED, CLOSE_ACCESS_REVOKED, CLOSE_NORMAL
from chat_svc.domain.errors import (
    NotYourSession,
    RateLimited,
    SessionEnded,
    SessionNotFound,
    SessionStillActive,
    UnknownMessage,
)
from chat_svc.domain.frames import error_frame, message_frame, session_frame, typing_frame
from chat_svc.domain.model import Author, ChatSession, Message, bucket_of, seq_in
from chat_svc.domain.ratelimit import TokenBucket
from chat_svc.domain.rules import clean_text, ending
from chat_svc.handlers.lifecycle import Lifecycle
from chat_svc.handlers.ports import LiveSockets
from chat_svc.handlers.technicians import TechnicianRecords
from chat_svc.handlers.timeline import Timeline
from contracts.vocabulary import SessionOutcome
from servicekit.auth import Principal, Role
from servicekit.logging import get_logger

log = get_logger(__name__)


def _joined_text(principal: Principal) -> str:
    name = principal.name
    return f"{name} (technician) has joined the chat." if name else "The technician has joined the chat."


GUEST_CANNOT_END = "only the chat's technician can end it; you can leave it instead"

KNOWN_SESSIONS = 10_000
"""Sessions whose socket this replica admitted, remembered for ending them (oldest first out)."""

TYPING_INTERVAL = 1.0
"""Typing indicators are relayed at most this often per socket (they carry no data)."""


@dataclass(eq=False)
class Participant:
    connection: Connection
    principal: Principal
    bucket: TokenBucket
    session: ChatSession
    """The session as it was when the socket joined."""
    last_typing: float = field(default=0.0)
    counted: bool = field(default=False)
    """This customer socket is in the session's count of customer sockets."""

    @property
    def author(self) -> Author:
        return self.connection.author

    @property
    def session_id(self) -> str:
        return self.connection.session_id


class LiveChat:
    def __init__(
        self,
        timeline: Timeline,
        lifecycle: Lifecycle,
        technicians: TechnicianRecords,
        history: HistoryRepository,
        archived: MessageRepository,
        settings: Settings,
        *,
        replica: str,
    ) -> None:
        self.timeline = timeline
        self.lifecycle = lifecycle
        self.technicians = technicians
        self.history = history
        self.archived = archived
        self.sessions = timeline.sessions
        self.messages = timeline.messages
        self.hub: LiveSockets = timeline.hub
        self.settings = settings
        self.replica = replica
        self._joined: OrderedDict[str, ChatSession] = OrderedDict()

    async def _session(self, session_id: str) -> ChatSession | None:
        """The live session, or the archived one."""
        return await self.sessions.get(session_id) or await self.history.get(session_id)

    async def authorize(self, principal: Principal, session_id: str) -> tuple[ChatSession, Author]:
        # A customer token names its request: refuse other sessions without a lookup.
        if principal.request_id is not None and not customer_owns(principal, session_id):
            raise NotYourSession("this token is for another request")
        session = await self._session(session_id)
        if session is None:
            raise SessionNotFound(f"no chat session {session_id}")
        author = join_as(principal, session, await self.technicians.of(principal))
        if session.is_active and author is Author.TECHNICIAN:
            self._remember(session)
        return session, author

    def _remember(self, session: ChatSession) -> None:
        self._joined[session.session_id] = session
        self._joined.move_to_end(session.session_id)
        while len(self._joined) > KNOWN_SESSIONS:
            self._joined.popitem(last=False)

    def _known(self, principal: Principal, session_id: str) -> ChatSession | None:
        """The session as read when this technician's socket joined it, if they were its
        technician then: what the end needs of it never changes (the request, account,
        company, correlation) or is checked again by the end's own write (still active,
        still theirs, not sent back to the queue)."""
        session = self._joined.get(session_id)
        if session is None or session.technician_id != principal.subject or session.awaiting_technician:
            return None
        return session

    async def _still_allowed(self, participant: Participant) -> bool:
        """A technician's access, from chat-svc's record (the admin may have changed it)."""
        if participant.author is not Author.TECHNICIAN:
            return True
        connection = participant.connection
        record = await self.technicians.current(participant.principal.subject)
        return still_allowed(record, connection.account_id, connection.company_id)

    def _revoke(self, participant: Participant) -> None:
        participant.connection.send(
            error_frame(NotYourSession.code, "you no longer have access to this session's company")
        )
        participant.connection.close(CLOSE_ACCESS_REVOKED, ACCESS_REVOKED)

    def participant(self, connection: Connection, principal: Principal, session: ChatSession) -> Participant:
        bucket = TokenBucket(rate=self.settings.message_rate_per_second, burst=self.settings.message_burst)
        return Participant(connection=connection, principal=principal, bucket=bucket, session=session)

    def defers(self, principal: Principal, session_id: str) -> bool:
        """Whether the socket is admitted by `arrive` rather than `authorize` + `attach`: a
        technician this replica has not admitted to the session yet, most likely their
        first join, which the one write recording it also authorizes (no read first)."""
        return principal.role is Role.TECHNICIAN and session_id not in self._joined

    async def arrive(self, connection: Connection, principal: Principal, after: str | None) -> tuple[Participant, bool]:
        """A technician's socket without the session read (see `defers`): when it is their
        first join, the write marking it authorizes it, stores its notice and returns the
        history; otherwise the session is read and checked as usual. The participant, and
        whether it is attached already (else `attach` it). Refusals raise."""
        session_id = connection.session_id
        after_seq = self._seq_of(session_id, after)
        async with self.hub.ordered(session_id):
            # In the hub before the write, as in `attach` (nothing reaches the socket before
            # it is admitted: delivery waits for this lock, and the socket is not started).
            self.hub.add(connection)
            try:
                document, arrived = await self._arrival(principal, session_id)
                if document is not None:
                    timeline = await self.messages.read_from(session_id, document, after_seq)
            except BaseException:
                self.hub.remove(connection)
                raise
            if document is None:
                self.hub.remove(connection)
        if document is None or arrived is None:
            session, author = await self.authorize(principal, session_id)
            connection.author, connection.account_id, connection.company_id = (
                author,
                session.account_id,
                session.company_id,
            )
            return self.participant(connection, principal, session), False
        session = to_session(document)
        connection.account_id, connection.company_id = session.account_id, session.company_id
        self._remember(session)
        participant = self.participant(connection, principal, session)
        await self._welcome(participant, timeline, after_seq, arrived)
        return participant, True

    async def attach(self, participant: Participant, after: str | None) -> None:
        """Register a socket: its history (or what it missed) first, then live frames."""
        connection = participant.connection
        session_id = participant.session_id
        session = participant.session
        after_seq = self._seq_of(session_id, after)
        if not session.is_active:
            await self._replay_ended(participant, session, after_seq)
            return
        arrived: Message | None = None
        async with self.hub.ordered(session_id):
            # Joined first, history second, both under the lock live frames are delivered
            # under: a frame stored after the read reaches the socket, and one stored before
            # it is skipped as already sent.
            self.hub.add(connection)
            document = None
            if self._arriving(participant):
                # The technician's first join (after a transfer, say): marked, its notice
                # stored and the history read in one write.
                document, arrived = await self._arrival(participant.principal, session_id)
            elif participant.author is Author.CUSTOMER and bucket_of(after_seq + 1, self.messages.size) == 0:
                # The customer's socket counted (they are present) and the history read at once.
                document = await self.sessions.customer_arrives(session_id, self.replica)
                participant.counted = document is not None
            if document is not None:
                timeline = await self.messages.read_from(session_id, document, after_seq)
            else:
                timeline = await self.messages.read(session_id, after_seq)
            if timeline.closed:
                self.hub.remove(connection)
        if timeline.closed:  # it ended between the two reads
            ended = await self._session(session_id)
            await self._replay_ended(participant, ended or session, after_seq)
            return
        await self._welcome(participant, timeline, after_seq, arrived)

    async def _arrival(self, principal: Principal, session_id: str) -> tuple[dict[str, Any] | None, Message | None]:
        """The write of a technician's first join (see `SessionRepository.technician_arrives`):
        the session document after it and the notice, or (None, None)."""
        record = await self.technicians.of(principal)
        if record is None:
            return None, None
        notice = new_entry(Author.SYSTEM, _joined_text(principal), datetime.now(UTC))
        document = await self.sessions.technician_arrives(
            session_id,
            principal.subject,
            notice,
            self.messages.size,
            account_id=principal.account_id,
            companies=record.companies(principal.account_id),
        )
        if document is None:
            return None, None
        return document, to_message(session_id, document["n"], notice)

    async def _welcome(
        self, participant: Participant, timeline: Stored, after_seq: int, arrived: Message | None
    ) -> None:
        """The joined socket gets the session frame and the history; then everyone else the
        technician's arrival."""
        connection = participant.connection
        session_id = participant.session_id
        self.timeline.saw_bucket(session_id, timeline.bucket)
        last = timeline.messages[-1].seq if timeline.messages else after_seq
        connection.send(session_frame(replace(participant.session, last_seq=last), participant.author))
        for message in timeline.messages:
            connection.send_message(message_frame(message))
        connection.last_seq = max(connection.last_seq, after_seq)
        if participant.author is Author.CUSTOMER and not participant.counted:
            await self.sessions.customer_joined(session_id, self.replica)
            participant.counted = True
        # Checked after joining the hub: an access change announced before this check is
        # seen here, and one announced after it finds the socket in the hub and closes it.
        if not await self._still_allowed(participant):
            self._revoke(participant)
            return
        if arrived is not None:
            await self.hub.publish(session_id, [message_frame(arrived)])
        elif self._arriving(participant) and await self.sessions.claim_technician_join(
            session_id, participant.principal.subject
        ):
            # Bucket 0 was full: the notice goes to the newest bucket.
            await self.timeline.append(
                session_id, Author.SYSTEM, _joined_text(participant.principal), bucket=timeline.bucket
            )

    @staticmethod
    def _arriving(participant: Participant) -> bool:
        """A technician socket of the session's technician, who has not joined it before."""
        session = participant.session
        return (
            participant.author is Author.TECHNICIAN
            and not session.technician_joined
            and participant.principal.subject == session.technician_id
        )

    async def _replay_ended(self, participant: Participant, session: ChatSession, after_seq: int) -> None:
        """An ended session: its frame and history, then the socket closes."""
        live = await self.messages.read(session.session_id, after_seq)
        timeline = live if live.bucket_ids else await self.archived.read(session.session_id, after_seq)
        connection = participant.connection
        last = timeline.messages[-1].seq if timeline.messages else after_seq
        connection.send(session_frame(replace(session, last_seq=last), participant.author))
        for message in timeline.messages:
            connection.send_message(message_frame(message))
        connection.close(CLOSE_NORMAL, "session ended")

    async def detach(self, participant: Participant) -> None:
        self.hub.remove(participant.connection)
        if participant.counted:
            # Whether the customer is away is decided from every replica's count (see
            # `Lifecycle.abandon_due`), so a socket left open elsewhere keeps the chat.
            await self.sessions.customer_left(participant.session_id, self.replica)

    async def send_message(self, participant: Participant, text: str, client_id: str | None) -> None:
        if not await self._still_allowed(participant):
            self._revoke(participant)
            return
        if not participant.bucket.take(time.monotonic()):
            raise RateLimited(
                f"too many messages: at most {self.settings.message_rate_per_second:g} per second "
                f"(bursts of {self.settings.message_burst}); this one was not sent"
            )
        text = clean_text(text, self.settings.max_message_chars)
        message, created = await self.timeline.append(
            participant.session_id,
            participant.author,
            text,
            author_name=participant.principal.name,
            client_id=client_id,
        )
        if not created:
            participant.connection.send(message_frame(message))

    async def typing(self, participant: Participant) -> None:
        now = time.monotonic()
        if now - participant.last_typing < TYPING_INTERVAL:
            return
        participant.last_typing = now
        await self.hub.publish(participant.session_id, [typing_frame(participant.author)], skip=participant.connection)

    async def resume(self, participant: Participant, after: str | None) -> None:
        after_seq = self._seq_of(participant.session_id, after)
        connection = participant.connection
        timeline = await self.messages.read(participant.session_id, after_seq)
        async with self.hub.ordered(participant.session_id):
            for message in timeline.messages:
                connection.send(message_frame(message))
            if timeline.messages:
                connection.last_seq = max(connection.last_seq, timeline.messages[-1].seq)

    async def end(self, participant: Participant, outcome: SessionOutcome | None, notes: str) -> None:
        if not await self._still_allowed(participant):
            self._revoke(participant)
            return
        if is_guest(participant.principal, participant.session):
            raise NotYourSession(GUEST_CANNOT_END)
        ended_by, outcome = ending(participant.author, outcome)
        technician = participant.principal.subject if participant.author is Author.TECHNICIAN else None
        session = await self.lifecycle.end(
            participant.session_id, ended_by, outcome, notes, technician_id=technician, known=participant.session
        )
        if session is None:
            raise SessionEnded("this chat session has already ended")

    async def end_as_technician(
        self, principal: Principal, session_id: str, outcome: SessionOutcome, notes: str
    ) -> ChatSession:
        """The assigned technician ends the session over HTTP."""
        ended_by, outcome = ending(Author.TECHNICIAN, outcome)
        known = self._known(principal, session_id)
        if known is not None:
            join_as(principal, known, await self.technicians.of(principal))
            ended = await self.lifecycle.end(
                session_id, ended_by, outcome, notes, technician_id=principal.subject, known=known, reread=False
            )
            if ended is not None:
                self._joined.pop(session_id, None)
                return ended
            # It changed since the socket joined (ended, transferred, back to the queue):
            # decided on what it is now, with the refusal that says why.
        self._joined.pop(session_id, None)
        session = await self._session(session_id)
        if session is None:
            raise SessionNotFound(f"no chat session {session_id}")
        join_as(principal, session, await self.technicians.of(principal))
        if is_guest(principal, session):
            raise NotYourSession(GUEST_CANNOT_END)
        ended = await self.lifecycle.end(
            session_id, ended_by, outcome, notes, technician_id=principal.subject, known=session
        )
        if ended is None:
            raise SessionEnded("this chat session has already ended")
        return ended

    async def wrap_up(self, principal: Principal, session_id: str, outcome: SessionOutcome, notes: str) -> ChatSession:
        """The technician records the outcome and notes after the session ended — the
        customer may have left (or gone away) first, before the technician could."""
        session = await self.sessions.get(session_id)
        archived = session is None
        if session is None:
            session = await self.history.get(session_id)
        if session is None:
            raise SessionNotFound(f"no chat session {session_id}")
        join_as(principal, session, await self.technicians.of(principal))
        if session.is_active:
            raise SessionStillActive("this chat is still open: end it to record its outcome")
        stored = (
            await self.history.wrap_up(session_id, principal.subject, outcome, notes)
            if archived
            else await self.sessions.wrap_up(session_id, principal.subject, outcome, notes)
        )
        if not stored and not archived:
            # Archived between the read and the write: the history holds it now.
            stored = await self.history.wrap_up(session_id, principal.subject, outcome, notes)
        if not stored:
            raise SessionNotFound(f"no chat session {session_id}")
        return replace(session, outcome=outcome, notes=notes)

    @staticmethod
    def _seq_of(session_id: str, after: str | None) -> int:
        if not after:
            return 0
        seq = seq_in(session_id, after)
        if seq is None:
            raise UnknownMessage(f"no message {after} in this session to resume after")
        return seq
