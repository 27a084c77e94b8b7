"""Live chat sockets on any number of replicas: the implementation of
`chat_svc.handlers.ports.LiveSockets`.

Each replica holds its own sockets. What a session's sockets must see — messages, typing,
system messages, the end — is published once as a live frame (topic `session.<id>`)
through `servicekit.live.LiveFanout`, and EVERY replica (the publisher included) hands it
to the sockets it holds. Access changes travel the same way (topic `technician.<id>`).
Without a fan-out (unit tests) frames are delivered in process.

Order: message frames carry their `seq`, and each socket remembers the last `seq` it was
sent. A frame at or below it is a duplicate (history already sent on joining, a resume) and
is skipped; a frame beyond the next number means frames from two replicas crossed on the
way, and the missing messages are read from the store first — numbering and storing are
one step (see `adapters.messages`), so the store never has a hole below a published number.

Socket limits per token hold across replicas through a shared counter (`SocketCounter`).

Each socket has its own send queue drained by one writer task, so frames reach a client in
the order they were queued and a slow client never blocks the others.
"""

import asyncio
import hashlib
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from chat_svc.adapters.replicas import SocketCounter
from chat_svc.domain.closing import CLOSE_TRY_AGAIN
from chat_svc.domain.errors import TooManySockets
from chat_svc.domain.model import Author
from servicekit.live import LiveFanout, LiveFrame
from servicekit.logging import get_logger

log = get_logger(__name__)

SESSION_TOPIC = "session."
TECHNICIAN_TOPIC = "technician."

CatchUp = Callable[[str, int], Awaitable[Sequence[dict[str, Any]]]]
"""Message frames of a session numbered above a `seq`, read from the store."""
AccessChanged = Callable[[dict[str, Any]], Awaitable[None]]


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
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    last_seq: int = 0
    """The highest message number sent on this socket."""
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

    def send_message(self, frame: dict[str, Any]) -> None:
        """Send a message frame unless this socket has had it (or a later one) already."""
        if frame["seq"] > self.last_seq:
            self.send(frame)
            self.last_seq = frame["seq"]

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
    # Only a digest is kept: neither memory nor the store ever holds usable credentials.
    return hashlib.sha256(token.encode()).hexdigest()


class Hub:
    def __init__(
        self,
        *,
        max_sockets_per_token: int,
        fanout: LiveFanout | None = None,
        counter: SocketCounter | None = None,
    ) -> None:
        self._max_sockets = max_sockets_per_token
        self._fanout = fanout
        self._counter = counter
        self._sessions: dict[str, set[Connection]] = defaultdict(set)
        self._per_token: dict[str, int] = defaultdict(int)
        self._locks: dict[str, asyncio.Lock] = {}
        self._catch_up: CatchUp | None = None
        self._access_changed: AccessChanged | None = None

    def on_catch_up(self, catch_up: CatchUp) -> None:
        self._catch_up = catch_up

    def on_access_changed(self, callback: AccessChanged) -> None:
        self._access_changed = callback

    # Socket limits --------------------------------------------------------------------

    async def reserve_socket(self, key: str) -> None:
        if self._counter is None:
            self._per_token[key] += 1
            if self._per_token[key] > self._max_sockets:
                await self.release_socket(key)
                raise self._too_many()
            return
        total = await self._counter.open(key)
        if total is not None and total > self._max_sockets:
            await self._counter.refuse(key)
            raise self._too_many()

    def _too_many(self) -> TooManySockets:
        return TooManySockets(
            f"at most {self._max_sockets} chat sockets may be open with one token; close another tab or window first"
        )

    async def release_socket(self, key: str) -> None:
        if self._counter is not None:
            await self._counter.close(key)
            return
        self._per_token[key] -= 1
        if self._per_token[key] <= 0:
            del self._per_token[key]

    # This replica's sockets -----------------------------------------------------------

    @asynccontextmanager
    async def ordered(self, session_id: str) -> AsyncIterator[None]:
        """Serialises joining (history, then live frames) and delivery of one session's
        frames to this replica's sockets."""
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

    # Every replica's sockets ----------------------------------------------------------

    async def publish(
        self,
        session_id: str,
        frames: Sequence[dict[str, Any]] = (),
        *,
        skip: Connection | None = None,
        close: tuple[int, str] | None = None,
        close_author: Author | None = None,
        close_person: str | None = None,
    ) -> None:
        """Hand `frames` (then a close, to every socket or those of `close_author` and
        `close_person`) to every socket of the session, on every replica."""
        body: dict[str, Any] = {"frames": list(frames), "skip": skip.id if skip else None}
        if close is not None:
            body["close"] = {"code": close[0], "reason": close[1], "author": close_author, "person": close_person}
        await self._send(SESSION_TOPIC + session_id, body)

    async def announce_access(self, record: dict[str, Any]) -> None:
        """Tell every replica a technician's access changed (their sockets are re-checked)."""
        await self._send(TECHNICIAN_TOPIC + record["technician_id"], {"access": record})

    async def _send(self, topic: str, body: dict[str, Any]) -> None:
        if self._fanout is None:
            await self.deliver(LiveFrame(topic=topic, frame=body, origin="local"))
        else:
            await self._fanout.publish(topic, body)

    async def deliver(self, live: LiveFrame) -> None:
        """A live frame from any replica (this one included), for the sockets held here."""
        if live.topic.startswith(TECHNICIAN_TOPIC):
            if self._access_changed is not None:
                await self._access_changed(live.frame["access"])
            return
        session_id = live.topic.removeprefix(SESSION_TOPIC)
        if session_id not in self._sessions:
            return
        body = live.frame
        async with self.ordered(session_id):
            for connection in self.connections(session_id):
                if connection.id == body.get("skip"):
                    continue
                for frame in body.get("frames", ()):
                    if frame.get("type") == "message":
                        await self._send_in_order(connection, frame)
                    else:
                        connection.send(frame)
                close = body.get("close")
                if close and _closes(close, connection):
                    connection.close(close["code"], close["reason"])
        self.forget(session_id)

    async def _send_in_order(self, connection: Connection, frame: dict[str, Any]) -> None:
        if frame["seq"] > connection.last_seq + 1 and self._catch_up is not None:
            # Frames crossed between replicas: what comes before is in the store already.
            for missed in await self._catch_up(connection.session_id, connection.last_seq):
                connection.send_message(missed)
        connection.send_message(frame)

    def close_technician(self, technician_id: str, keep: Callable[[str, str], bool], code: int, reason: str) -> int:
        """Close this replica's sockets of the technician on every session for which
        `keep(account_id, company_id)` is false; returns how many were closed."""
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


def _closes(close: dict[str, Any], connection: Connection) -> bool:
    """Whether a close sent with frames is for this socket (its author, and its person if named)."""
    if close["author"] is not None and connection.author != close["author"]:
        return False
    return close.get("person") is None or connection.person_id == close["person"]
