"""Live help-center connections (WebSockets) and the grace period after the last one drops.

This registry lives in memory, which is why presence-svc runs as exactly one instance:
it holds the sockets, and "connected" is what this process sees.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket

from servicekit.logging import get_logger

log = get_logger(__name__)


class Connection:
    """One tab or device. Frames are sent one at a time; a dead socket is just skipped."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.ready = False
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any], *, before_ready: bool = False) -> None:
        # Until the hello frame is out, broadcasts are skipped: the hello and the replay
        # of open alerts that follow it carry the same information, in the right order.
        if not (self.ready or before_ready):
            return
        async with self._lock:
            try:
                await self.websocket.send_json(frame)
            except Exception as error:  # closed under our feet: its receive loop cleans up
                log.debug("frame not sent", error=str(error))


class ConnectionRegistry:
    """Who is connected now, and until when a technician whose last connection dropped is
    still counted as live (the grace period). Deadlines, not timers: `expired()` is asked by
    a periodic tick, so nothing here runs on its own."""

    def __init__(self, *, grace_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._grace_seconds = grace_seconds
        self._clock = clock
        self._connections: dict[str, set[Connection]] = {}
        self._grace_until: dict[str, float] = {}

    def add(self, technician_id: str, connection: Connection) -> None:
        self._grace_until.pop(technician_id, None)
        self._connections.setdefault(technician_id, set()).add(connection)

    def remove(self, technician_id: str, connection: Connection) -> None:
        connections = self._connections.get(technician_id, set())
        connections.discard(connection)
        if not connections:
            self._connections.pop(technician_id, None)
            self.start_grace(technician_id)

    def start_grace(self, technician_id: str) -> None:
        if technician_id in self._grace_until or self.connected(technician_id):
            return
        self._grace_until[technician_id] = self._clock() + self._grace_seconds

    def expired(self) -> list[str]:
        """Technicians whose grace period is over (each returned once)."""
        now = self._clock()
        gone = [technician_id for technician_id, until in self._grace_until.items() if until <= now]
        for technician_id in gone:
            del self._grace_until[technician_id]
        return gone

    def connected(self, technician_id: str) -> bool:
        return bool(self._connections.get(technician_id))

    def count(self, technician_id: str) -> int:
        return len(self._connections.get(technician_id, ()))

    def live(self, technician_id: str) -> bool:
        """Connected, or recently disconnected and still inside the grace period."""
        return self.connected(technician_id) or self._grace_until.get(technician_id, 0.0) > self._clock()

    async def send(self, technician_id: str, frame: dict[str, Any]) -> None:
        for connection in list(self._connections.get(technician_id, ())):
            await connection.send(frame)

    async def disconnect(self, technician_id: str, *, code: int, reason: str) -> None:
        """Close every connection of a technician (their receive loops then clean up)."""
        for connection in list(self._connections.get(technician_id, ())):
            try:
                await connection.websocket.close(code=code, reason=reason)
            except RuntimeError:
                log.debug("connection already closed", technician_id=technician_id)
