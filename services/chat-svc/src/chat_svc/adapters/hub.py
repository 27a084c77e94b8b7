"""Live chat sockets, fanned out in memory: the in-process implementation of
`chat_svc.handlers.ports.LiveSockets`.

chat-svc runs as ONE instance: the hub knows every open socket of every session because
they all live in this process. Two instances would need a RabbitMQ fan-out exchange
between them (and a shared socket count per token) behind the same interface; nothing else
in the design assumes a single instance — messages, numbering and sessions are all in MongoDB.

Each socket has its own send queue drained by one writer task, so frames reach a client in
the order they were queued and a slow client never blocks the others.
"""

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from chat_svc.domain.closing import CLOSE_TRY_AGAIN
from chat_svc.domain.errors import TooManySockets
from chat_svc.domain.model import Author
from servicekit.logging import get_logger

log = get_logger(__name__)


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    session_id: str
    author: Author
    token_key: str
    queue_size: int
    person_id: str = ""
    """The technician's id (or the customer's request id) behind the socket."""
    account_id: str = ""
    company_id: str = ""
    queue: asyncio.Queue[tuple[str, Any]] = field(init=False)
    _writer: asyncio.Task[None] | None = field(default=None, init=False)
    _closing: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_size)

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write())

    def send(self, frame: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(("frame", frame))
        except asyncio.QueueFull:
            log.warning("slow chat client dropped", session_id=self.session_id)
            if self._writer:
                self._writer.cancel()
            self._closing = asyncio.create_task(self._close_now(CLOSE_TRY_AGAIN, "too slow to receive messages"))

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued have been sent."""
        try:
            self.queue.put_nowait(("close", (code, reason)))
        except asyncio.QueueFull:
            self._closing = asyncio.create_task(self._close_now(code, reason))

    async def stop(self) -> None:
        if self._writer:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _write(self) -> None:
        try:
            while True:
                kind, item = await self.queue.get()
                if kind == "close":
                    await self._close_now(*item)
                    return
                await self.websocket.send_json(item)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client went away; the reader side notices and cleans up.
            return

    async def _close_now(self, code: int, reason: str) -> None:
        if self.websocket.application_state is WebSocketState.CONNECTED:
            with suppress(RuntimeError, OSError):
                await self.websocket.close(code=code, reason=reason)


def token_key(token: str) -> str:
    # Only a digest is kept in memory: the hub never holds usable credentials.
    return hashlib.sha256(token.encode()).hexdigest()


class Hub:
    def __init__(self, *, max_sockets_per_token: int) -> None:
        self._max_sockets = max_sockets_per_token
        self._sessions: dict[str, set[Connection]] = defaultdict(set)
        self._per_token: dict[str, int] = defaultdict(int)
        self._locks: dict[str, asyncio.Lock] = {}

    def reserve_socket(self, key: str) -> None:
        if self._per_token[key] >= self._max_sockets:
            raise TooManySockets(
                f"at most {self._max_sockets} chat sockets may be open with one token; "
                "close another tab or window first"
            )
        self._per_token[key] += 1

    def release_socket(self, key: str) -> None:
        self._per_token[key] -= 1
        if self._per_token[key] <= 0:
            del self._per_token[key]

    @asynccontextmanager
    async def ordered(self, session_id: str) -> AsyncIterator[None]:
        """Serialises numbering, storing and fan-out of one session's frames."""
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        async with lock:
            yield

    def add(self, connection: Connection) -> None:
        self._sessions[connection.session_id].add(connection)

    def remove(self, connection: Connection) -> None:
        connections = self._sessions.get(connection.session_id)
        if connections is None:
            return
        connections.discard(connection)
        if not connections:
            del self._sessions[connection.session_id]

    def forget(self, session_id: str) -> None:
        """Drop the lock of a session nobody is connected to (keeps memory bounded)."""
        lock = self._locks.get(session_id)
        if session_id not in self._sessions and lock is not None and not lock.locked():
            del self._locks[session_id]

    def connections(self, session_id: str) -> Iterator[Connection]:
        return iter(tuple(self._sessions.get(session_id, ())))

    def count(self, session_id: str, author: Author) -> int:
        return sum(1 for c in self._sessions.get(session_id, ()) if c.author is author)

    def broadcast(self, session_id: str, frame: dict[str, Any], *, skip: Connection | None = None) -> None:
        for connection in self.connections(session_id):
            if connection is not skip:
                connection.send(frame)

    def close_all(self, session_id: str, code: int, reason: str, *, author: Author | None = None) -> None:
        for connection in self.connections(session_id):
            if author is None or connection.author is author:
                connection.close(code, reason)

    def close_technician(self, technician_id: str, keep: Callable[[str, str], bool], code: int, reason: str) -> int:
        """Close the technician's sockets on every session for which `keep(account_id,
        company_id)` is false; returns how many were closed."""
        closed = 0
        for connections in tuple(self._sessions.values()):
            for connection in tuple(connections):
                if (
                    connection.author is Author.TECHNICIAN
                    and connection.person_id == technician_id
                    and not keep(connection.account_id, connection.company_id)
                ):
                    connection.close(code, reason)
                    closed += 1
        return closed
