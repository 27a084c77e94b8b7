"""Live help-center connections (WebSockets) and the grace timers after the last one drops.

This registry lives in memory, which is why presence-svc runs as exactly one instance:
it holds the sockets, and "connected" is what this process sees.
"""

import asyncio
from collections.abc import Awaitable, Callable
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
    def __init__(
        self, *, grace_seconds: float, on_grace_expired: Callable[[str], Awaitable[None]]
    ) -> None:
        self._grace_seconds = grace_seconds
        self._on_grace_expired = on_grace_expired
        self._connections: dict[str, set[Connection]] = {}
        self._grace: dict[str, asyncio.Task[None]] = {}

    def add(self, technician_id: str, connection: Connection) -> None:
        timer = self._grace.pop(technician_id, None)
        if timer:
            timer.cancel()
        self._connections.setdefault(technician_id, set()).add(connection)

    def remove(self, technician_id: str, connection: Connection) -> None:
        connections = self._connections.get(technician_id, set())
        connections.discard(connection)
        if not connections:
            self._connections.pop(technician_id, None)
            self.start_grace(technician_id)

    def start_grace(self, technician_id: str) -> None:
        if technician_id in self._grace or self.connected(technician_id):
            return
        self._grace[technician_id] = asyncio.create_task(self._expire(technician_id))

    async def _expire(self, technician_id: str) -> None:
        await asyncio.sleep(self._grace_seconds)
        self._grace.pop(technician_id, None)
        try:
            await self._on_grace_expired(technician_id)
        except Exception:
            log.exception("grace expiry failed", technician_id=technician_id)

    def connected(self, technician_id: str) -> bool:
        return bool(self._connections.get(technician_id))

    def count(self, technician_id: str) -> int:
        return len(self._connections.get(technician_id, ()))

    def live(self, technician_id: str) -> bool:
        """Connected, or recently disconnected and still inside the grace period."""
        return self.connected(technician_id) or technician_id in self._grace

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

    async def stop(self) -> None:
        timers = list(self._grace.values())
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._grace.clear()
