"""Frames for a technician's help centers, whichever replica holds their sockets.

Every frame goes through servicekit's `LiveFanout` (one queue per replica, every replica
gets every frame) and each replica hands it to the sockets it holds, if any: an alert,
a withdrawal or a status change produced on one replica reaches tabs on all of them.
Revoking access is a frame too, so the sockets close on every replica.

At most once, like every live frame: alerts are stored first and a help center that
reconnects gets the open ones replayed.
"""

from typing import Any

from presence_svc.adapters.connections import ConnectionRegistry
from servicekit.live import LiveFanout, LiveFrame
from servicekit.logging import get_logger

log = get_logger(__name__)

FRAME = "technician"
CLOSE = "close"


class TechnicianChannel:
    def __init__(self, fanout: LiveFanout, connections: ConnectionRegistry) -> None:
        self.fanout = fanout
        self.connections = connections

    def subscribe(self) -> None:
        """Once, in bootstrap, before the broker starts."""
        self.fanout.subscribe(self.deliver)

    async def send(self, technician_id: str, frame: dict[str, Any]) -> None:
        await self.fanout.publish(f"{FRAME}.{technician_id}", frame)

    async def close(self, technician_id: str, *, code: int, reason: str) -> None:
        await self.fanout.publish(f"{CLOSE}.{technician_id}", {"code": code, "reason": reason})

    async def deliver(self, live: LiveFrame) -> None:
        kind, _, technician_id = live.topic.partition(".")
        if kind == FRAME:
            await self.connections.send(technician_id, live.frame)
        elif kind == CLOSE:
            await self.connections.disconnect(technician_id, code=live.frame["code"], reason=live.frame["reason"])
        else:
            log.warning("unknown live frame", topic=live.topic)
