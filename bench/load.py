"""The load generator: customers across many portals, technicians who work like people.

Technicians sign in, hold the help center's presence WebSocket, go available, accept what
they are alerted to (Web offers, Queue assignments), chat briefly and end the session; one of
them keeps toggling availability. Customers arrive at a steady rate across Web, Queue and
Phone portals (Phone customers use a code their technician generated). Everything goes
through the gateway; assignments are observed as an external system would, on the bus.
"""

import asyncio
import itertools
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from testkit.amqp import AmqpTap

PASSWORD = "bench-password"
MODES = {"web": "smart_box", "queue": "smart_box", "phone": "smart_pin"}


@dataclass
class Scenario:
    requests: int = 60
    rate_per_second: float = 0.8
    portals_per_mode: int = 2
    technicians: int = 6
    capacity: int = 3
    chat_seconds: float = 0.3
    toggle_every_seconds: float = 4.0
    drain_timeout_seconds: float = 180.0


@dataclass
class Results:
    submitted: dict[str, tuple[str, float]] = field(default_factory=dict)  # request -> (mode, t0)
    assigned_at: dict[str, float] = field(default_factory=dict)
    assignments: Counter = field(default_factory=Counter)  # (request, assignment no.) -> count
    ended: set[str] = field(default_factory=set)
    rejected: dict[str, str] = field(default_factory=dict)  # request -> reason
    max_active: dict[str, int] = field(default_factory=dict)
    capacity_violations: list[str] = field(default_factory=list)
    failed_submissions: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def latencies(self, mode: str) -> list[float]:
        return [
            self.assigned_at[r] - t0
            for r, (m, t0) in self.submitted.items()
            if m == mode and r in self.assigned_at
        ]


class Technician:
    def __init__(self, gateway: str, ws_base: str, login: dict[str, Any], scenario: Scenario, results: Results):
        self.id = login["user_id"]
        self.token = login["token"]
        self.gateway = gateway
        self.ws_base = ws_base
        self.scenario = scenario
        self.results = results
        self.http = httpx.AsyncClient(base_url=gateway, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.socket = await websockets.connect(f"{self.ws_base}/api/presence/ws?token={self.token}")
        self.tasks += [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._alerts())]
        await self.set_available(True)

    async def set_available(self, available: bool) -> None:
        response = await self.http.put(
            "/api/presence/me/status", json={"status": "available" if available else "unavailable"}
        )
        response.raise_for_status()

    async def _heartbeat(self) -> None:
        while True:
            await self.socket.send(json.dumps({"type": "heartbeat"}))
            await asyncio.sleep(5)

    async def _alerts(self) -> None:
        async for raw in self.socket:
            frame = json.loads(raw)
            if frame.get("type") == "alert":
                self.tasks.append(asyncio.create_task(self.accept(frame["request_id"])))

    async def accept(self, request_id: str) -> None:
        # 409 means another technician was faster (Web) — the expected race, not an error.
        await self.http.post(f"/api/dispatch/requests/{request_id}/accept")

    async def chat_and_end(self, request_id: str) -> None:
        session_id = f"cht_{request_id}"
        try:
            async with websockets.connect(f"{self.ws_base}/api/chat/ws/{session_id}?token={self.token}") as chat:
                await chat.send(json.dumps({"type": "message", "text": "Hello, how can I help?"}))
                await asyncio.sleep(self.scenario.chat_seconds)
        except (OSError, websockets.WebSocketException):
            pass  # the session may not be open yet; ending it below still frees capacity
        for _ in range(20):
            response = await self.http.post(
                f"/api/chat/sessions/{session_id}/end", json={"outcome": "resolved", "notes": "bench"}
            )
            if response.status_code in (200, 409):
                return
            await asyncio.sleep(0.5)

    async def new_code(self, company_id: str) -> str | None:
        """A connection code, or None when this technician already has 8 live ones."""
        response = await self.http.post("/api/dispatch/codes", json={"company_id": company_id})
        if response.status_code == 409:
            return None
        response.raise_for_status()
        return response.json()["code"]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.socket.close()
        await self.http.aclose()


async def provision(client: httpx.AsyncClient, scenario: Scenario, tag: str) -> tuple[dict[str, list[tuple[str, str]]], list[dict[str, Any]]]:
    """An account with portals of every mode and its technicians; returns portals and logins."""
    admin_email = f"admin-{tag}@bench.test"
    account = await client.post(
        "/api/portal/accounts",
        json={"account_name": f"Bench {tag}", "admin_name": "Bench Admin", "admin_email": admin_email, "admin_password": PASSWORD},
    )
    account.raise_for_status()
    admin = (await client.post("/api/portal/auth/login", json={"email": admin_email, "password": PASSWORD})).json()
    auth = {"Authorization": f"Bearer {admin['token']}"}
    portals: dict[str, list[tuple[str, str]]] = defaultdict(list)
    company_ids = []
    for mode, portal_type in MODES.items():
        for index in range(scenario.portals_per_mode):
            company = await client.post("/api/portal/companies", json={"name": f"{mode} {index} {tag}"}, headers=auth)
            company.raise_for_status()
            company_id = company.json()["company_id"]
            company_ids.append(company_id)
            subdomain = f"{mode}{index}-{tag}"
            portal = await client.post(
                "/api/portal/portals",
                json={"company_id": company_id, "subdomain": subdomain, "mode": mode, "portal_type": portal_type},
                headers=auth,
            )
            portal.raise_for_status()
            portals[mode].append((subdomain, company_id))
    logins = []
    for index in range(scenario.technicians):
        email = f"tec{index}-{tag}@bench.test"
        created = await client.post(
            "/api/portal/technicians",
            json={"name": f"Tech {index}", "email": email, "password": PASSWORD, "company_ids": company_ids, "capacity": scenario.capacity},
            headers=auth,
        )
        created.raise_for_status()
        logins.append((await client.post("/api/portal/auth/login", json={"email": email, "password": PASSWORD})).json())
    return portals, logins


async def run_load(gateway: str, rabbitmq_url: str, scenario: Scenario, tag: str) -> Results:
    results = Results()
    ws_base = gateway.replace("http://", "ws://")
    active: dict[str, set[str]] = defaultdict(set)
    capacity = scenario.capacity
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        portals, logins = await provision(client, scenario, tag)
        # Let presence-svc and dispatch-svc absorb the new technicians before they connect.
        await asyncio.sleep(2)
        technicians = [Technician(gateway, ws_base, login, scenario, results) for login in logins]
        by_id = {t.id: t for t in technicians}
        for technician in technicians:
            await technician.start()
        await asyncio.sleep(2)

        async with AmqpTap(rabbitmq_url, "request.assigned.*", "request.rejected.*", "chat.ended.*") as tap:
            chats: list[asyncio.Task[None]] = []

            def on_event(message: dict[str, Any]) -> None:
                data = message["data"]
                request_id = data["request_id"]
                if message["type"] == "RequestAssigned":
                    results.assignments[(request_id, data.get("assignment", 1))] += 1
                    results.assigned_at.setdefault(request_id, time.perf_counter())
                    tec = data["technician_id"]
                    active[tec].add(request_id)
                    results.max_active[tec] = max(results.max_active.get(tec, 0), len(active[tec]))
                    if len(active[tec]) > capacity:
                        results.capacity_violations.append(f"{tec} had {len(active[tec])} chats")
                    if tec in by_id:
                        chats.append(asyncio.create_task(by_id[tec].chat_and_end(request_id)))
                elif message["type"] == "RequestRejected":
                    results.rejected[request_id] = data["reason"]
                elif message["type"] == "ChatSessionEnded":
                    active[data["technician_id"]].discard(request_id)
                    results.ended.add(request_id)

            seen = 0

            async def follow() -> None:
                nonlocal seen
                while True:
                    while seen < len(tap.messages):
                        on_event(tap.messages[seen])
                        seen += 1
                    await asyncio.sleep(0.01)

            follower = asyncio.create_task(follow())

            async def toggler() -> None:
                toggling = technicians[-1]
                while True:
                    await asyncio.sleep(scenario.toggle_every_seconds)
                    await toggling.set_available(False)
                    await asyncio.sleep(scenario.toggle_every_seconds / 2)
                    await toggling.set_available(True)

            toggle = asyncio.create_task(toggler())
            rotation = itertools.cycle([(m, p) for m in MODES for p in portals[m]])
            started = time.perf_counter()

            async def customer(index: int, mode: str, subdomain: str, company_id: str) -> None:
                body: dict[str, Any] = {"customer_name": f"Customer {index}", "description": "It does not work"}
                if mode == "phone":
                    # The technician on the phone is one with room for another chat, as in life.
                    steady = sorted(technicians[:-1], key=lambda t: len(active[t.id]))
                    for owner in steady:
                        if code := await owner.new_code(company_id):
                            body["connection_code"] = code
                            break
                    else:
                        results.failed_submissions.append("no technician could issue a code")
                        return
                t0 = time.perf_counter()
                response = await client.post(f"/api/portal/public/portals/{subdomain}/requests", json=body)
                if response.status_code != 201:
                    results.failed_submissions.append(f"{response.status_code} {response.text[:200]}")
                    return
                results.submitted[response.json()["request_id"]] = (mode, t0)

            arrivals = []
            for index in range(scenario.requests):
                mode, (subdomain, company_id) = next(rotation)
                arrivals.append(asyncio.create_task(customer(index, mode, subdomain, company_id)))
                await asyncio.sleep(random.expovariate(scenario.rate_per_second))
            await asyncio.gather(*arrivals)
            toggle.cancel()
            await technicians[-1].set_available(True)

            deadline = time.monotonic() + scenario.drain_timeout_seconds
            while time.monotonic() < deadline and not set(results.submitted) <= results.ended | set(results.rejected):
                await asyncio.sleep(0.5)
            results.elapsed = time.perf_counter() - started
            follower.cancel()
            for chat in chats:
                chat.cancel()
        for technician in technicians:
            await technician.close()
    return results
