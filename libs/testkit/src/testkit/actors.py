"""The people of a scenario, acting through the gateway as the web UI would."""

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import websockets

DEMO_PASSWORD = "demo-password"

# Sign-in is rate limited per client address: each sign-in of a test comes from its own
# loopback address (all of 127/8 is local), so suites never use up each other's allowance.
_source_addresses = itertools.count(1)


def fresh_source() -> httpx.AsyncHTTPTransport:
    n = next(_source_addresses)
    return httpx.AsyncHTTPTransport(local_address=f"127.2.{n // 250 % 250}.{n % 250 + 1}")


async def eventually[T](
    probe: Callable[[], Any], *, timeout: float = 20.0, every: float = 0.2, what: str = ""
) -> T:
    """The first truthy result of an async probe, polled until `timeout` (the system is
    eventually consistent)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what or 'condition'} not reached within {timeout}s (last: {result!r})")
        await asyncio.sleep(every)


class Staff:
    """An admin or technician signed in through portal-svc."""

    def __init__(self, gateway: str, login: dict[str, Any], email: str, password: str) -> None:
        self.gateway = gateway
        self.login = login
        self.email = email
        self.password = password
        self.id: str = login["user_id"]
        self.token: str = login["token"]
        self.http = httpx.AsyncClient(
            base_url=gateway, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    @classmethod
    async def sign_in(cls, gateway: str, email: str, password: str = DEMO_PASSWORD) -> "Staff":
        async with httpx.AsyncClient(base_url=gateway, timeout=30, transport=fresh_source()) as client:
            response = await client.post("/api/portal/auth/login", json={"email": email, "password": password})
            response.raise_for_status()
            return cls(gateway, response.json(), email, password)

    async def signed_in_again(self) -> "Staff":
        """A fresh token, e.g. once an admin changed the companies this person can access."""
        await self.close()
        return await Staff.sign_in(self.gateway, self.email, self.password)

    async def close(self) -> None:
        await self.http.aclose()


class FrameStream:
    """Collects the JSON frames a WebSocket receives, and waits for particular ones."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()

    async def _read(self) -> None:
        async for raw in self.socket:
            async with self._arrived:
                self.frames.append(json.loads(raw))
                self._arrived.notify_all()

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    for frame in self.frames:
                        if predicate(frame):
                            return frame
                    await self._arrived.wait()

        return await asyncio.wait_for(find(), timeout)


class HelpCenter(FrameStream):
    """A technician's open help center: the presence WebSocket, heartbeats, alerts."""

    def __init__(self, technician: Staff) -> None:
        super().__init__()
        self.technician = technician

    async def __aenter__(self) -> "HelpCenter":
        url = self.technician.gateway.replace("http", "ws", 1)
        self.socket = await websockets.connect(f"{url}/api/presence/ws?token={self.technician.token}")
        self._tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._beat())]
        await self.wait_for(lambda f: f["type"] == "hello")
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await self.socket.close()

    async def _beat(self) -> None:
        while True:
            await self.socket.send(json.dumps({"type": "heartbeat"}))
            await asyncio.sleep(5)

    def alerts_for(self, request_id: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == "alert" and f["request_id"] == request_id]

    async def set_status(self, status: str) -> dict[str, Any]:
        response = await self.technician.http.put("/api/presence/me/status", json={"status": status})
        response.raise_for_status()
        return response.json()


class Customer:
    """A customer on a portal: submits, follows the status, chats."""

    def __init__(self, gateway: str, subdomain: str) -> None:
        self.gateway = gateway
        self.subdomain = subdomain
        self.http = httpx.AsyncClient(base_url=gateway, timeout=30, transport=fresh_source())
        self.request_id = ""
        self.token = ""

    async def view(self) -> dict[str, Any]:
        response = await self.http.get(f"/api/portal/public/portals/{self.subdomain}")
        response.raise_for_status()
        return response.json()

    async def submit(self, **fields: Any) -> httpx.Response:
        body = {"customer_name": "Casey Customer", "description": "My screen stays black", **fields}
        response = await self.http.post(f"/api/portal/public/portals/{self.subdomain}/requests", json=body)
        if response.status_code == 201:
            self.request_id = response.json()["request_id"]
            self.token = response.json()["token"]
        return response

    async def status(self) -> dict[str, Any]:
        response = await self.http.get(
            f"/api/portal/requests/{self.request_id}", headers={"Authorization": f"Bearer {self.token}"}
        )
        response.raise_for_status()
        return response.json()

    async def wait_status(self, *statuses: str, timeout: float = 20.0) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            current = await self.status()
            return current if current["status"] in statuses else None

        return await eventually(probe, timeout=timeout)

    async def close(self) -> None:
        await self.http.aclose()


class ChatSocket(FrameStream):
    """One side of a chat session's WebSocket."""

    def __init__(self, gateway: str, session_id: str, token: str) -> None:
        super().__init__()
        self.url = f"{gateway.replace('http', 'ws', 1)}/api/chat/ws/{session_id}?token={token}"

    async def __aenter__(self) -> "ChatSocket":
        self.socket = await websockets.connect(self.url)
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reader.cancel()
        await self.socket.close()

    async def say(self, text: str) -> None:
        await self.socket.send(json.dumps({"type": "message", "text": text}))

    def texts(self) -> list[str]:
        return [f["text"] for f in self.frames if f["type"] == "message" and f["author"] != "system"]
