"""Test doubles of the other services: they publish what portal-svc and dispatch-svc would,
and drive the help center's WebSocket the way the browser does."""

import asyncio
import contextlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from contracts import Envelope, EventPayload, PortalConfigured, RequestOffered, TechnicianUpdated
from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from servicekit.auth import Role
from testkit.amqp import publish_raw
from testkit.plugin import make_token

ACCOUNT = "acc_test"
GRACE = 1.0
HEARTBEAT_TIMEOUT = 1.5


def uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def tech_token(technician_id: str, companies: list[str], account: str = ACCOUNT) -> str:
    return make_token(Role.TECHNICIAN, subject=technician_id, account_id=account, company_ids=companies)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def publish(rabbitmq_url: str, payload: EventPayload, **envelope: Any) -> Envelope[Any]:
    event = Envelope[type(payload)].of(payload, producer="test", correlation_id=uid("corr"))
    if envelope:
        event = event.model_copy(update=envelope)
    await publish_raw(
        rabbitmq_url,
        payload.routing_key(),
        event.model_dump_json().encode(),
        message_id=str(event.event_id),
        content_type="application/json",
    )
    return event


def technician(technician_id: str, companies: list[str], *, revision: int = 1, **changes: Any) -> TechnicianUpdated:
    fields = {
        "technician_id": technician_id,
        "account_id": ACCOUNT,
        "display_name": f"Tech {technician_id[-4:]}",
        "company_ids": companies,
        "capacity": 2,
        "enabled": True,
        "revision": revision,
        **changes,
    }
    return TechnicianUpdated(**fields)


def portal(company_id: str, *, active: bool = True, revision: int = 1) -> PortalConfigured:
    return PortalConfigured(
        portal_id=f"prt_{company_id}",
        account_id=ACCOUNT,
        company_id=company_id,
        subdomain=company_id.replace("_", "-"),
        status=PortalStatus.ACTIVE if active else PortalStatus.INACTIVE,
        mode=ConnectionMode.WEB,
        portal_type=PortalType.SMART_BOX,
        revision=revision,
    )


def offer(request_id: str, company_id: str, technician_ids: list[str]) -> RequestOffered:
    return RequestOffered(
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company_id,
        technician_ids=technician_ids,
        portal_type=PortalType.SMART_BOX,
        customer_name="Bob Customer",
        description="My printer is on fire",
        expires_at=datetime.now(UTC) + timedelta(seconds=30),
    )


async def eventually(check, timeout: float = 10.0, every: float = 0.1):
    """Retry an async check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)


class HelpCenter:
    """One help-center tab: collects server frames and sends heartbeats like the browser."""

    def __init__(self, websocket: ClientConnection, *, heartbeat_every: float | None) -> None:
        self.websocket = websocket
        self.frames: list[dict[str, Any]] = []
        self.ended = False
        self._arrived = asyncio.Condition()
        self._tasks = [asyncio.create_task(self._read())]
        if heartbeat_every:
            self._tasks.append(asyncio.create_task(self._beat(heartbeat_every)))

    async def _read(self) -> None:
        try:
            async for raw in self.websocket:
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
                await self.websocket.send(json.dumps({"type": "heartbeat"}))
                await asyncio.sleep(every)

    def of_type(self, frame_type: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == frame_type]

    async def wait_for(self, predicate, timeout: float = 10.0) -> dict[str, Any]:
        async def find() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    for frame in self.frames:
                        if predicate(frame):
                            return frame
                    await self._arrived.wait()

        return await asyncio.wait_for(find(), timeout)

    async def wait_closed(self, timeout: float = 10.0) -> tuple[int | None, str]:
        async def closed() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: self.ended)

        await asyncio.wait_for(closed(), timeout)
        return self.websocket.close_code, self.websocket.close_reason or ""

    async def close(self) -> None:
        for task in self._tasks[1:]:
            task.cancel()
        await self.websocket.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def help_center(base_url: str, token: str, *, heartbeat_every: float | None = 0.3):
    url = base_url.replace("http://", "ws://") + f"/api/presence/ws?token={token}"
    async with connect(url) as websocket:
        tab = HelpCenter(websocket, heartbeat_every=heartbeat_every)
        try:
            await tab.wait_for(lambda f: f["type"] == "hello")
            yield tab
        finally:
            await tab.close()


async def open_help_center(base_url: str, token: str, *, heartbeat_every: float | None = 0.3) -> HelpCenter:
    """A tab the test closes itself (to drop connections at chosen moments)."""
    url = base_url.replace("http://", "ws://") + f"/api/presence/ws?token={token}"
    tab = HelpCenter(await connect(url), heartbeat_every=heartbeat_every)
    await tab.wait_for(lambda f: f["type"] == "hello")
    return tab


async def known(client: httpx.AsyncClient, base_url: str, token: str) -> dict[str, Any]:
    """Wait until presence-svc has absorbed the technician's events; returns GET /me."""

    async def check():
        response = await client.get(base_url + "/api/presence/me", headers=auth(token))
        return response.json() if response.status_code == 200 else None

    return await eventually(check)
