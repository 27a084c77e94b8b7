"""Live chat over sockets: who may join, what they may send, what they receive."""

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chat_svc.adapters.hub import Connection
from chat_svc.config import Settings
from chat_svc.domain.access import customer_owns, join_as, still_allowed
from chat_svc.domain.closing import ACCESS_REVOKED, CLOSE_ACCESS_REVOKED, CLOSE_NORMAL
from chat_svc.domain.errors import NotYourSession, RateLimited, SessionEnded, SessionNotFound, UnknownMessage
from chat_svc.domain.frames import error_frame, message_frame, session_frame, typing_frame
from chat_svc.domain.model import Author, ChatSession
from chat_svc.domain.ratelimit import TokenBucket
from chat_svc.domain.rules import clean_text, ending
from chat_svc.handlers.lifecycle import Lifecycle
from chat_svc.handlers.ports import LiveSockets
from chat_svc.handlers.technicians import TechnicianRecords
from chat_svc.handlers.timeline import Timeline
from contracts.vocabulary import SessionOutcome
from servicekit.auth import Principal
from servicekit.logging import get_logger

log = get_logger(__name__)

TYPING_INTERVAL = 1.0
"""Typing indicators are relayed at most this often per socket (they carry no data)."""


@dataclass(eq=False)
class Participant:
    connection: Connection
    principal: Principal
    bucket: TokenBucket
    last_typing: float = field(default=0.0)

    @property
    def author(self) -> Author:
        return self.connection.author

    @property
    def session_id(self) -> str:
        return self.connection.session_id


class LiveChat:
    def __init__(
        self, timeline: Timeline, lifecycle: Lifecycle, technicians: TechnicianRecords, settings: Settings
    ) -> None:
        self.timeline = timeline
        self.lifecycle = lifecycle
        self.technicians = technicians
        self.sessions = timeline.sessions
        self.messages = timeline.messages
        self.hub: LiveSockets = timeline.hub
        self.settings = settings

    async def authorize(self, principal: Principal, session_id: str) -> tuple[ChatSession, Author]:
        # A customer token names its request: refuse other sessions without a lookup.
        if principal.request_id is not None and not customer_owns(principal, session_id):
            raise NotYourSession("this token is for another request")
        session = await self.sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"no chat session {session_id}")
        return session, join_as(principal, session, await self.technicians.of(principal))

    async def _still_allowed(self, participant: Participant) -> bool:
        """A technician's access, re-read from chat-svc's record (the admin may have changed it)."""
        if participant.author is not Author.TECHNICIAN:
            return True
        connection = participant.connection
        record = await self.technicians.record(participant.principal.subject)
        return still_allowed(record, connection.account_id, connection.company_id)

    def _revoke(self, participant: Participant) -> None:
        participant.connection.send(
            error_frame(NotYourSession.code, "you no longer have access to this session's company")
        )
        participant.connection.close(CLOSE_ACCESS_REVOKED, ACCESS_REVOKED)

    def participant(self, connection: Connection, principal: Principal) -> Participant:
        bucket = TokenBucket(rate=self.settings.message_rate_per_second, burst=self.settings.message_burst)
        return Participant(connection=connection, principal=principal, bucket=bucket)

    async def attach(self, participant: Participant, after: str | None) -> None:
        """Register a socket: its history (or what it missed) first, then live frames."""
        connection = participant.connection
        session_id = participant.session_id
        after_seq = await self._seq_of(session_id, after)
        async with self.hub.ordered(session_id):
            session = await self.sessions.get(session_id)
            if session is None:
                raise SessionNotFound(f"no chat session {session_id}")
            connection.send(session_frame(session, participant.author))
            for message in await self.messages.after(session_id, after_seq):
                connection.send(message_frame(message))
            if not session.is_active:
                connection.close(CLOSE_NORMAL, "session ended")
                return
            self.hub.add(connection)
            if participant.author is Author.CUSTOMER:
                await self.sessions.set_customer_away(session_id, None)
        # Re-read after joining the hub: an access change stored before this read is seen
        # here, and one stored after it finds the socket in the hub and closes it.
        if not await self._still_allowed(participant):
            self._revoke(participant)
            return
        if participant.author is Author.TECHNICIAN and await self.sessions.claim_technician_join(
            session_id, participant.principal.subject
        ):
            name = participant.principal.name
            await self.timeline.append(
                session_id,
                Author.SYSTEM,
                f"{name} (technician) has joined the chat." if name else "The technician has joined the chat.",
            )

    async def detach(self, participant: Participant) -> None:
        session_id = participant.session_id
        # Under the session's lock, like `attach`: a quick reconnect in between must not
        # leave a connected customer marked as away.
        async with self.hub.ordered(session_id):
            self.hub.remove(participant.connection)
            if participant.author is Author.CUSTOMER and self.hub.count(session_id, Author.CUSTOMER) == 0:
                await self.sessions.set_customer_away(session_id, datetime.now(UTC))

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

    def typing(self, participant: Participant) -> None:
        now = time.monotonic()
        if now - participant.last_typing < TYPING_INTERVAL:
            return
        participant.last_typing = now
        self.hub.broadcast(participant.session_id, typing_frame(participant.author), skip=participant.connection)

    async def resume(self, participant: Participant, after: str | None) -> None:
        after_seq = await self._seq_of(participant.session_id, after)
        for message in await self.messages.after(participant.session_id, after_seq):
            participant.connection.send(message_frame(message))

    async def end(self, participant: Participant, outcome: SessionOutcome | None, notes: str) -> None:
        if not await self._still_allowed(participant):
            self._revoke(participant)
            return
        ended_by, outcome = ending(participant.author, outcome)
        technician = participant.principal.subject if participant.author is Author.TECHNICIAN else None
        session = await self.lifecycle.end(participant.session_id, ended_by, outcome, notes, technician_id=technician)
        if session is None:
            raise SessionEnded("this chat session has already ended")

    async def end_as_technician(
        self, principal: Principal, session_id: str, outcome: SessionOutcome, notes: str
    ) -> ChatSession:
        """The assigned technician ends the session over HTTP."""
        session = await self.sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"no chat session {session_id}")
        join_as(principal, session, await self.technicians.of(principal))
        ended_by, outcome = ending(Author.TECHNICIAN, outcome)
        ended = await self.lifecycle.end(session_id, ended_by, outcome, notes, technician_id=principal.subject)
        if ended is None:
            raise SessionEnded("this chat session has already ended")
        return ended

    async def _seq_of(self, session_id: str, after: str | None) -> int:
        if not after:
            return 0
        message = await self.messages.get(after)
        if message is None or message.session_id != session_id:
            raise UnknownMessage(f"no message {after} in this session to resume after")
        return message.seq
