"""Appending to a session's timeline: number and store in one write, then deliver to every
replica's sockets."""

from collections import OrderedDict
from datetime import UTC, datetime

from chat_svc.adapters.messages import Appended, MessageRepository
from chat_svc.adapters.sessions import SessionRepository
from chat_svc.domain.errors import SessionEnded
from chat_svc.domain.frames import message_frame
from chat_svc.domain.model import Author, Message
from chat_svc.handlers.ports import LiveSockets

KNOWN_BUCKETS = 10_000
"""Sessions whose newest bucket this replica remembers (oldest forgotten first)."""


class Timeline:
    def __init__(self, sessions: SessionRepository, messages: MessageRepository, hub: LiveSockets) -> None:
        self.sessions = sessions
        self.messages = messages
        self.hub = hub
        self._buckets: OrderedDict[str, int] = OrderedDict()

    def bucket_hint(self, session_id: str, known: int = 0) -> int:
        return max(known, self._buckets.get(session_id, 0))

    def saw_bucket(self, session_id: str, bucket: int) -> None:
        self._buckets[session_id] = max(bucket, self._buckets.get(session_id, 0))
        self._buckets.move_to_end(session_id)
        while len(self._buckets) > KNOWN_BUCKETS:
            self._buckets.popitem(last=False)

    def forget(self, session_id: str) -> None:
        """The session ended: nothing more is appended to it."""
        self._buckets.pop(session_id, None)

    async def store(
        self,
        session_id: str,
        author: Author,
        text: str,
        *,
        bucket: int = 0,
        author_name: str = "",
        client_id: str | None = None,
        close: bool = False,
    ) -> Appended | None:
        """Number and store a message (one command); None when the session has ended."""
        hint = self.bucket_hint(session_id, bucket)
        appended = await self.messages.append(
            session_id,
            hint,
            author=author,
            text=text,
            sent_at=datetime.now(UTC),
            author_name=author_name,
            client_id=client_id,
            close=close,
        )
        if appended is None:
            self.forget(session_id)
            return None
        if appended.bucket > hint:
            # Once per full bucket: readers elsewhere start from the newer one.
            await self.sessions.note_bucket(session_id, appended.bucket)
        if close:
            self.forget(session_id)
        else:
            self.saw_bucket(session_id, appended.bucket)
        return appended

    async def append(
        self,
        session_id: str,
        author: Author,
        text: str,
        *,
        bucket: int = 0,
        author_name: str = "",
        client_id: str | None = None,
    ) -> tuple[Message, bool]:
        """The stored message, and False when `client_id` shows it was stored before; a new
        message is delivered to every socket of the session."""
        appended = await self.store(
            session_id, author, text, bucket=bucket, author_name=author_name, client_id=client_id
        )
        if appended is None:
            raise SessionEnded("this chat session has ended")
        if appended.created:
            await self.hub.publish(session_id, [message_frame(appended.message)])
        return appended.message, appended.created
