"""The help-center WebSockets this replica holds."""

import asyncio
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
        # The alert frame last shown per request: an alert broadcast while the replay of open
        # alerts is being read reaches the socket twice (live and replayed), and must show once.
        self._shown: dict[object, dict[str, Any]] = {}

    async def send(self, frame: dict[str, Any], *, before_ready: bool = False) -> None:
        # Until the hello frame is out, broadcasts are skipped: the hello and the replay
        # of open alerts that follow it carry the same information, in the right order.
        if not (self.ready or before_ready):
            return
        async with self._lock:
            if not self._first_showing(frame):
                return
            try:
                await self.websocket.send_json(frame)
            except Exception as error:  # closed under our feet: its receive loop cleans up
                log.debug("frame not sent", error=str(error))

    def _first_showing(self, frame: dict[str, Any]) -> bool:
        kind, request_id = frame.get("type"), frame.get("request_id")
        if kind == "alert_withdrawn":
            self._shown.pop(request_id, None)
        elif kind == "alert":
            if self._shown.get(request_id) == frame:
                return False
            self._shown[request_id] = frame
        return True


class ConnectionRegistry:
    """The help-center sockets THIS replica holds. Whether a technician is connected at all
    (on any replica) is in their leases (see `TechnicianRepository`); frames for them reach
    this registry through the live fan-out, whichever replica produced them."""

    def __init__(self) -> None:
        self._connections: dict[str, set[Connection]] = {}

    def add(self, technician_id: str, connection: Connection) -> None:
        self._connections.setdefault(technician_id, set()).add(connection)

    def remove(self, technician_id: str, connection: Connection) -> bool:
        """Forget one socket; True when it was the technician's last one here."""
        connections = self._connections.get(technician_id, set())
        connections.discard(connection)
        if connections:
            return False
        self._connections.pop(technician_id, None)
        return True

    def technician_ids(self) -> list[str]:
        """Technicians with a socket here (their leases are this replica's to renew)."""
        return list(self._connections)

    def count(self, technician_id: str) -> int:
        return len(self._connections.get(technician_id, ()))

    async def send(self, technician_id: str, frame: dict[str, Any]) -> None:
        for connection in list(self._connections.get(technician_id, ())):
            await connection.send(frame)

    async def disconnect(self, technician_id: str, *, code: int, reason: str) -> None:
        """Close every connection of a technician here (their receive loops then clean up)."""
        for connection in list(self._connections.get(technician_id, ())):
            try:
                await connection.websocket.close(code=code, reason=reason)
            except RuntimeError:
                log.debug("connection already closed", technician_id=technician_id)
