"""Chats that outlive the replica holding their sockets (the replica suite, tests-e2e/replicas).

`ResilientChat` is one side of a chat socket behaving as the web UI does when its replica
dies: it reconnects through the gateway with `?after=<last message id it saw>`, waits for
the replayed history, then sends again — under the same `client_id`, which chat-svc stores
once — whatever it said but never saw confirmed. It keeps every frame it received across
connections, so a test can prove nothing was lost, duplicated or reordered.

`Conversation` is a customer and a technician talking over one session at a steady pace.
"""

import asyncio
import contextlib
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import websockets

from testkit.waiting import eventually
from testkit.ws import connect, ws_url

type Frame = dict[str, Any]


class ResilientChat:
    def __init__(self, gateway: str, session_id: str, token: str, *, first_url: str | None = None) -> None:
        """`first_url`, a chat replica's own address, pins the first connection to it."""
        self.gateway = gateway
        self.session_id = session_id
        self.token = token
        self.first_url = first_url
        self.messages: list[Frame] = []
        """Every message frame received, in arrival order, over all connections (duplicates kept)."""
        self.frames: list[Frame] = []
        """Every frame received, over all connections."""
        self.said: list[tuple[str, str]] = []
        """(client id, text) of every message this side said, in order."""
        self.pending: dict[str, str] = {}
        """Said but not yet seen stored (echoed back by the server)."""
        self.connections = 0
        self.ended = False
        self._socket: Any = None
        self._synced = False
        self._task: asyncio.Task[None] | None = None

    @property
    def last_id(self) -> str | None:
        return self.messages[-1]["id"] if self.messages else None

    async def start(self, timeout: float = 20.0) -> "ResilientChat":
        self._task = asyncio.create_task(self._run())
        await eventually(lambda: self._synced, timeout=timeout, what=f"chat socket of {self.session_id} open")
        return self

    async def _run(self) -> None:
        while not self.ended:
            base = self.first_url if self.first_url and not self.connections else self.gateway
            url = ws_url(base, f"/api/chat/ws/{self.session_id}")
            if self.last_id:
                url += f"?after={self.last_id}"
            try:
                async with await connect(url, self.token) as socket:
                    self._socket, self._synced = socket, False
                    self.connections += 1
                    upto: int | None = None
                    async for raw in socket:
                        frame = json.loads(raw)
                        self.frames.append(frame)
                        if frame.get("type") == "session":
                            upto = frame["last_seq"]
                            self.ended = frame["state"] != "active"
                        elif frame.get("type") == "message":
                            self.messages.append(frame)
                            self.pending.pop(frame.get("client_id") or "", None)
                        if not self._synced and upto is not None and self._seen_upto() >= upto:
                            await self._synchronised(socket)
                    self.ended = self.ended or socket.close_reason == "session ended"
            except (OSError, websockets.WebSocketException):
                pass
            finally:
                self._socket, self._synced = None, False
            await asyncio.sleep(0.3)

    def _seen_upto(self) -> int:
        return self.messages[-1]["seq"] if self.messages else 0

    async def _synchronised(self, socket: Any) -> None:
        """The history is replayed: what was said and not seen stored is said again, same ids."""
        self._synced = True
        for client_id, text in list(self.pending.items()):
            await socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))

    async def say(self, text: str) -> None:
        client_id = uuid.uuid4().hex
        self.said.append((client_id, text))
        self.pending[client_id] = text
        if self._socket is not None and self._synced:
            # Lost with a dying socket, it is sent again once the next one is synchronised.
            with contextlib.suppress(websockets.WebSocketException):
                await self._socket.send(json.dumps({"type": "message", "text": text, "client_id": client_id}))

    async def typing(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(websockets.WebSocketException):
                await self._socket.send(json.dumps({"type": "typing"}))

    def received_ids(self) -> list[str]:
        return [m["id"] for m in self.messages]

    def duplicates(self) -> list[str]:
        ids = self.received_ids()
        return sorted({i for i in ids if ids.count(i) > 1})

    def out_of_order(self) -> list[tuple[int, int]]:
        """Consecutive received messages whose seq did not increase."""
        seqs = [m["seq"] for m in self.messages]
        return [(a, b) for a, b in itertools.pairwise(seqs) if b <= a]

    def client_ids(self) -> set[str]:
        return {m["client_id"] for m in self.messages if m.get("client_id")}

    async def close(self) -> None:
        self.ended = True
        if self._socket is not None:
            with contextlib.suppress(websockets.WebSocketException):
                await self._socket.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


@dataclass
class Conversation:
    """A customer and a technician taking turns on one session, one message every `every` s."""

    customer: ResilientChat
    technician: ResilientChat
    every: float = 0.25
    sides: tuple[ResilientChat, ResilientChat] = field(init=False)

    def __post_init__(self) -> None:
        self.sides = (self.customer, self.technician)

    async def talk(self, count: int) -> None:
        for index in range(count):
            speaker = self.sides[index % 2]
            await speaker.say(f"{'customer' if speaker is self.customer else 'technician'} line {index}")
            await asyncio.sleep(self.every)

    def said(self) -> list[tuple[str, str]]:
        return self.customer.said + self.technician.said

    async def delivered(self, timeout: float = 60.0) -> None:
        """Waits until both sides received every message either side said."""
        everything = {client_id for client_id, _ in self.said()}
        await eventually(
            lambda: all(everything <= side.client_ids() for side in self.sides),
            timeout=timeout,
            every=0.2,
            what="every message said delivered to both sides",
        )

    def lost(self) -> list[str]:
        """Texts said that some side never received."""
        return sorted({text for side in self.sides for cid, text in self.said() if cid not in side.client_ids()})

    def summary(self) -> dict[str, int]:
        return {
            "said": len(self.said()),
            "lost": len(self.lost()),
            "duplicated": sum(len(side.duplicates()) for side in self.sides),
            "out_of_order": sum(len(side.out_of_order()) for side in self.sides),
            "reconnects": sum(side.connections - 1 for side in self.sides),
        }

    async def close(self) -> None:
        for side in self.sides:
            await side.close()
