"""WebSockets as the web UI opens them, and a collector of the frames they receive."""

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from servicekit.auth import websocket_subprotocols

type Frame = dict[str, Any]


def ws_url(base_url: str, path: str) -> str:
    """`http://host/...` → `ws://host/<path>` (and https → wss)."""
    return base_url.replace("http", "ws", 1).rstrip("/") + path


async def connect(url: str, token: str, **kwargs: Any) -> ClientConnection:
    """Opens a socket the way the browser does: the token travels as a subprotocol
    (`["assistline", "bearer.<JWT>"]`), never in the URL."""
    return await websockets.connect(url, subprotocols=websocket_subprotocols(token), **kwargs)  # type: ignore[arg-type]


class FrameCollector:
    """Reads every JSON frame of a socket in the background; tests wait for the ones they need.

    `async with FrameCollector(await connect(url, token)) as frames: ...` or `start()` / `close()`
    when a test drops the connection at a moment of its choosing.
    """

    def __init__(self, socket: ClientConnection, *, heartbeat_every: float | None = None) -> None:
        self.socket = socket
        self.frames: list[Frame] = []
        self.ended = False
        self.heartbeat_every = heartbeat_every
        self._arrived = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> "FrameCollector":
        self._tasks.append(asyncio.create_task(self._read()))
        if self.heartbeat_every:
            self._tasks.append(asyncio.create_task(self._beat(self.heartbeat_every)))
        return self

    async def __aenter__(self) -> "FrameCollector":
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                async with self._arrived:
                    self.frames.append(json.loads(raw))
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass  # the close code and reason stay readable on the connection
        async with self._arrived:
            self.ended = True
            self._arrived.notify_all()

    async def _beat(self, every: float) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.socket.send(json.dumps({"type": "heartbeat"}))
                await asyncio.sleep(every)

    async def send(self, frame: Frame) -> None:
        await self.socket.send(json.dumps(frame))

    def of_type(self, frame_type: str) -> list[Frame]:
        return [f for f in self.frames if f.get("type") == frame_type]

    async def wait_for(self, predicate: Callable[[Frame], bool], timeout: float = 20.0) -> Frame:
        """The first frame (already received or still to come) matching `predicate`."""

        async def find() -> Frame:
            async with self._arrived:
                while True:
                    for frame in self.frames:
                        if predicate(frame):
                            return frame
                    if self.ended:
                        raise AssertionError(f"socket closed before a matching frame; got {self.frames}")
                    await self._arrived.wait()

        return await asyncio.wait_for(find(), timeout)

    async def wait_closed(self, timeout: float = 10.0) -> tuple[int | None, str]:
        """Waits for the server to close the socket; returns its close code and reason."""

        async def closed() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: self.ended)

        await asyncio.wait_for(closed(), timeout)
        return self.socket.close_code, self.socket.close_reason or ""

    async def close(self) -> None:
        for task in self._tasks[1:]:
            task.cancel()
        await self.socket.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
