"""Appending to a session's timeline: number, store, then deliver — in that order."""

from datetime import UTC, datetime

from chat_svc.adapters.messages import MessageRepository
from chat_svc.adapters.sessions import SessionRepository
from chat_svc.domain.errors import SessionEnded
from chat_svc.domain.frames import message_frame
from chat_svc.domain.model import Author, Message, message_id
from chat_svc.handlers.ports import LiveSockets


class Timeline:
    def __init__(self, sessions: SessionRepository, messages: MessageRepository, hub: LiveSockets) -> None:
        self.sessions = sessions
        self.messages = messages
        self.hub = hub

    async def store(
        self,
        session_id: str,
        seq: int,
        author: Author,
        text: str,
        *,
        author_name: str = "",
        client_id: str | None = None,
    ) -> Message:
        """Store a message under a reserved number and deliver it; call inside `hub.ordered`."""
        message = Message(
            id=message_id(session_id, seq),
            session_id=session_id,
            seq=seq,
            author=author,
            text=text,
            sent_at=datetime.now(UTC),
            client_id=client_id,
            author_name=author_name,
        )
        await self.messages.add(message)
        self.hub.broadcast(session_id, message_frame(message))
        return message

    async def append(
        self,
        session_id: str,
        author: Author,
        text: str,
        *,
        author_name: str = "",
        client_id: str | None = None,
    ) -> tuple[Message, bool]:
        """The stored message, and False when `client_id` shows it was stored before."""
        async with self.hub.ordered(session_id):
            if client_id is not None:
                # A client retrying after a lost connection must not post twice.
                earlier = await self.messages.by_client_id(session_id, author, client_id)
                if earlier is not None:
                    return earlier, False
            seq = await self.sessions.next_seq(session_id)
            if seq is None:
                raise SessionEnded("this chat session has ended")
            stored = await self.store(session_id, seq, author, text, author_name=author_name, client_id=client_id)
            return stored, True
