"""The people of a scenario, acting through the gateway as the web UI would."""

from typing import Any

import httpx

from testkit.http import bearer, client, fresh_source
from testkit.waiting import eventually
from testkit.ws import FrameCollector, connect, ws_url

__all__ = ["DEMO_PASSWORD", "ChatSocket", "Customer", "HelpCenter", "Staff", "eventually", "fresh_source"]

DEMO_PASSWORD = "demo-password"


class Staff:
    """An admin or technician signed in through portal-svc."""

    def __init__(self, gateway: str, login: dict[str, Any], email: str, password: str) -> None:
        self.gateway = gateway
        self.login = login
        self.email = email
        self.password = password
        self.id: str = login["user_id"]
        self.token: str = login["token"]
        self.http = client(gateway, token=self.token)

    @classmethod
    async def sign_in(cls, gateway: str, email: str, password: str = DEMO_PASSWORD) -> "Staff":
        async with client(gateway) as http:
            response = await http.post("/api/portal/auth/login", json={"email": email, "password": password})
            response.raise_for_status()
            return cls(gateway, response.json(), email, password)

    async def signed_in_again(self) -> "Staff":
        """A fresh token, e.g. once an admin changed the companies this person can access."""
        await self.close()
        return await Staff.sign_in(self.gateway, self.email, self.password)

    async def close(self) -> None:
        await self.http.aclose()


class HelpCenter(FrameCollector):
    """A technician's open help center: the presence WebSocket, heartbeats, alerts."""

    def __init__(self, technician: Staff, *, base_url: str | None = None) -> None:
        """`base_url` (a presence replica's own address) connects straight to that replica."""
        self.technician = technician
        self.base_url = base_url or technician.gateway

    async def __aenter__(self) -> "HelpCenter":
        socket = await connect(ws_url(self.base_url, "/api/presence/ws"), self.technician.token)
        super().__init__(socket, heartbeat_every=5)
        self.start()
        await self.wait_for(lambda f: f["type"] == "hello")
        return self

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
        self.http = client(gateway)
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
        response = await self.http.get(f"/api/portal/requests/{self.request_id}", headers=bearer(self.token))
        response.raise_for_status()
        return response.json()

    async def wait_status(self, *statuses: str, timeout: float = 20.0) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            current = await self.status()
            return current if current["status"] in statuses else None

        return await eventually(probe, timeout=timeout)

    async def close(self) -> None:
        await self.http.aclose()


class ChatSocket(FrameCollector):
    """One side of a chat session's WebSocket."""

    def __init__(self, gateway: str, session_id: str, token: str) -> None:
        """`gateway` may also be a chat replica's own address, to hold the socket on that replica."""
        self.url = ws_url(gateway, f"/api/chat/ws/{session_id}")
        self.token = token

    async def __aenter__(self) -> "ChatSocket":
        super().__init__(await connect(self.url, self.token))
        self.start()
        return self

    async def say(self, text: str) -> None:
        await self.send({"type": "message", "text": text})

    def texts(self) -> list[str]:
        return [f["text"] for f in self.frames if f["type"] == "message" and f["author"] != "system"]
