"""The load generator: customers across many portals, technicians who work like people.

A `LoadSession` provisions a tenant through testkit (portals of every mode, technicians),
connects the technicians' help centers (presence WebSocket, heartbeats, alerts) and then
runs bounded *steps*: `requests` customers arriving evenly at `rate` per second across Web,
Queue and Phone portals (Phone customers use a code their technician generated). Technicians
accept what they are alerted to, exchange a few chat messages and end the session; one of
them keeps toggling availability. Assignments are observed as an external system would, on
the bus. Every loop here is bounded in count and time.
"""

import asyncio
import itertools
import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from testkit.amqp import AmqpTap
from testkit.http import client
from testkit.tenants import Tenant, portals_per_mode, provision_tenant, wait_known_to_presence
from testkit.ws import connect

MODES = ("web", "queue", "phone")


@dataclass
class Scenario:
    portals_per_mode: int = 2
    technicians: int = 8
    capacity: int = 4
    chat_messages: int = 2
    chat_pause_seconds: float = 0.1
    toggle_every_seconds: float = 4.0
    drain_timeout_seconds: float = 60.0


@dataclass
class Results:
    """One step: what was submitted and what the bus said about it."""

    rate: float = 0.0
    submitted: dict[str, tuple[str, float]] = field(default_factory=dict)  # request -> (mode, t0)
    assigned_at: dict[str, float] = field(default_factory=dict)
    # (request, assignment no.) -> ids of the RequestAssigned events that made it: the outbox
    # delivers at least once, so the same event seen again is a duplicate, not a second claim.
    assignments: defaultdict[tuple[str, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    ended: set[str] = field(default_factory=set)
    rejected: dict[str, str] = field(default_factory=dict)  # request -> reason
    max_active: int = 0
    capacity_violations: list[str] = field(default_factory=list)
    failed_submissions: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    drained: bool = False

    def latencies(self, mode: str | None = None) -> list[float]:
        return [
            self.assigned_at[r] - t0
            for r, (m, t0) in self.submitted.items()
            if (mode is None or m == mode) and r in self.assigned_at
        ]

    def percentile(self, p: float) -> float:
        values = sorted(self.latencies())
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    @property
    def p50(self) -> float:
        return self.median()

    def median(self, mode: str | None = None) -> float:
        values = self.latencies(mode)
        return statistics.median(values) if values else float("nan")

    def invariants(self, capacity: int) -> list[str]:
        """Every request assigned (or rejected) exactly once and its chat ended; capacity kept."""
        problems = []
        twice = [key for key, events in self.assignments.items() if len(events) > 1]
        if twice:
            problems.append(f"{len(twice)} assignment(s) claimed twice: {twice[:3]}")
        unassigned = set(self.submitted) - set(self.assigned_at) - set(self.rejected)
        if unassigned:
            problems.append(f"{len(unassigned)} request(s) never assigned nor rejected")
        unfinished = set(self.submitted) - self.ended - set(self.rejected)
        if unfinished:
            problems.append(f"{len(unfinished)} request(s) stuck before the end of their chat")
        problems += self.capacity_violations[:3]
        if self.failed_submissions:
            problems.append(f"{len(self.failed_submissions)} submission(s) refused: {self.failed_submissions[:2]}")
        return problems


class Technician:
    def __init__(self, gateway: str, login: dict[str, Any], scenario: Scenario) -> None:
        self.id: str = login["user_id"]
        self.token: str = login["token"]
        self.ws_base = gateway.replace("http://", "ws://")
        self.scenario = scenario
        self.http = client(gateway, token=self.token)
        self.tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def start(self) -> None:
        self.socket = await connect(f"{self.ws_base}/api/presence/ws", self.token)
        self._spawn(self._heartbeat())
        self._spawn(self._alerts())
        await self.set_available(True)

    async def set_available(self, available: bool, attempts: int = 3) -> None:
        # An overloaded system may answer late: a person clicks again rather than give up.
        for attempt in range(1, attempts + 1):
            try:
                response = await self.http.put(
                    "/api/presence/me/status", json={"status": "available" if available else "unavailable"}
                )
                response.raise_for_status()
                return
            except httpx.TransportError:
                if attempt == attempts:
                    raise

    async def _heartbeat(self) -> None:
        while True:
            await self.socket.send(json.dumps({"type": "heartbeat"}))
            await asyncio.sleep(5)

    async def _alerts(self) -> None:
        async for raw in self.socket:
            frame = json.loads(raw)
            if frame.get("type") == "alert":
                self._spawn(self.accept(frame["request_id"]))

    async def accept(self, request_id: str) -> None:
        # 409 means another technician was faster (Web) — the expected race, not an error.
        await self.http.post(f"/api/dispatch/requests/{request_id}/accept")

    async def chat_and_end(self, request_id: str) -> None:
        session_id = f"cht_{request_id}"
        try:
            async with await connect(f"{self.ws_base}/api/chat/ws/{session_id}", self.token) as chat:
                for index in range(self.scenario.chat_messages):
                    await chat.send(json.dumps({"type": "message", "text": f"Step {index}: try restarting it"}))
                    await asyncio.sleep(self.scenario.chat_pause_seconds)
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
        """A connection code, or None when this technician already has its maximum live ones."""
        response = await self.http.post("/api/dispatch/codes", json={"company_id": company_id})
        if response.status_code == 409:
            return None
        response.raise_for_status()
        return str(response.json()["code"])

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.socket.close()
        await self.http.aclose()


class LoadSession:
    """A provisioned tenant with connected technicians, ready to run load steps."""

    def __init__(self, gateway: str, rabbitmq_url: str, scenario: Scenario) -> None:
        self.gateway = gateway
        self.rabbitmq_url = rabbitmq_url
        self.scenario = scenario
        self.active: dict[str, set[str]] = defaultdict(set)
        self.chats: set[asyncio.Task[None]] = set()
        self.current = Results()
        self.owner: dict[str, Results] = {}  # request -> the step that submitted it

    async def __aenter__(self) -> "LoadSession":
        scenario = self.scenario
        self.tenant: Tenant = await provision_tenant(
            self.gateway,
            "Bench",
            companies=portals_per_mode(dict.fromkeys(MODES, scenario.portals_per_mode)),
            technicians=scenario.technicians,
            capacity=scenario.capacity,
        )
        for login in self.tenant.logins:
            await wait_known_to_presence(self.gateway, login["token"])
        self.technicians = [Technician(self.gateway, login, scenario) for login in self.tenant.logins]
        self.by_id = {t.id: t for t in self.technicians}
        for technician in self.technicians:
            await technician.start()
        self.tap = AmqpTap(
            self.rabbitmq_url, "request.assigned.*", "request.rejected.*", "request.offer-withdrawn.*", "chat.ended.*"
        )
        await self.tap.__aenter__()
        self.seen = 0
        self.follower = asyncio.create_task(self._follow())
        self.customers = client(self.gateway)
        self.rotation = itertools.cycle([(m, p) for m in MODES for p in self.tenant.portals_of_mode(m)])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.follower.cancel()
        for chat in list(self.chats):
            chat.cancel()
        await self.tap.__aexit__(*exc)
        for technician in self.technicians:
            await technician.close()
        await self.customers.aclose()

    def _on_event(self, message: dict[str, Any]) -> None:
        data = message["data"]
        request_id = data["request_id"]
        results = self.owner.get(request_id, self.current)
        if message["type"] == "RequestAssigned":
            results.assignments[(request_id, data.get("assignment", 1))].add(message["event_id"])
            results.assigned_at.setdefault(request_id, time.perf_counter())
            tec = data["technician_id"]
            self.active[tec].add(request_id)
            results.max_active = max(results.max_active, len(self.active[tec]))
            if len(self.active[tec]) > self.scenario.capacity:
                results.capacity_violations.append(f"{tec} had {len(self.active[tec])} chats")
            if tec in self.by_id:
                chat = asyncio.create_task(self.by_id[tec].chat_and_end(request_id))
                self.chats.add(chat)
                chat.add_done_callback(self.chats.discard)
        elif message["type"] == "RequestRejected":
            results.rejected[request_id] = data["reason"]
        elif message["type"] == "RequestOfferWithdrawn":
            # A Queue assignment passed over (its technician turned unavailable before
            # acknowledging) frees their slot: it goes to someone else, and ends with them.
            for tec in data["technician_ids"]:
                self.active[tec].discard(request_id)
        elif message["type"] == "ChatSessionEnded":
            self.active[data["technician_id"]].discard(request_id)
            results.ended.add(request_id)

    async def _follow(self) -> None:
        while True:
            while self.seen < len(self.tap.messages):
                self._on_event(self.tap.messages[self.seen])
                self.seen += 1
            await asyncio.sleep(0.01)

    async def _customer(self, results: Results, index: int, mode: str, subdomain: str, company_id: str) -> None:
        body: dict[str, Any] = {"customer_name": f"Customer {index}", "description": "It does not work"}
        if mode == "phone":
            # The technician on the phone is one with room for another chat, as in life.
            steady = sorted(self.technicians[:-1], key=lambda t: len(self.active[t.id]))
            for owner in steady:
                try:
                    code = await owner.new_code(company_id)
                except httpx.TransportError as error:  # overloaded: a failed submission, not a crash
                    results.failed_submissions.append(f"code not issued: {type(error).__name__}")
                    return
                if code:
                    body["connection_code"] = code
                    break
            else:
                results.failed_submissions.append("no technician could issue a code")
                return
        t0 = time.perf_counter()
        try:
            response = await self.customers.post(f"/api/portal/public/portals/{subdomain}/requests", json=body)
        except httpx.HTTPError as error:
            results.failed_submissions.append(repr(error)[:200])
            return
        if response.status_code != 201:
            results.failed_submissions.append(f"{response.status_code} {response.text[:200]}")
            return
        request_id = response.json()["request_id"]
        self.owner[request_id] = results
        results.submitted[request_id] = (mode, t0)

    async def step(self, rate: float, requests: int) -> Results:
        """`requests` customers arriving evenly at `rate`/s; waits (bounded) for every chat to end."""
        results = Results(rate=rate)
        self.current = Results()  # events of requests not yet known to any step
        toggling = self.technicians[-1]
        started = time.perf_counter()

        async def toggler() -> None:
            while True:
                await asyncio.sleep(self.scenario.toggle_every_seconds)
                await toggling.set_available(False)
                await asyncio.sleep(self.scenario.toggle_every_seconds / 2)
                await toggling.set_available(True)

        toggle = asyncio.create_task(toggler())
        arrivals = []
        for index in range(requests):
            mode, (subdomain, company_id) = next(self.rotation)
            arrivals.append(asyncio.create_task(self._customer(results, index, mode, subdomain, company_id)))
            await asyncio.sleep(max(0.0, started + (index + 1) / rate - time.perf_counter()))
        await asyncio.gather(*arrivals)
        toggle.cancel()
        await toggling.set_available(True)
        deadline = time.monotonic() + self.scenario.drain_timeout_seconds
        while time.monotonic() < deadline:
            self._absorb_early(results)
            if set(results.submitted) <= results.ended | set(results.rejected):
                results.drained = True
                break
            await asyncio.sleep(0.2)
        results.elapsed = time.perf_counter() - started
        return results

    def _absorb_early(self, results: Results) -> None:
        """Events that arrived before their submission's HTTP answer was recorded."""
        early = self.current
        for request_id in list(results.submitted):
            if request_id in early.assigned_at:
                results.assigned_at.setdefault(request_id, early.assigned_at.pop(request_id))
            for key in [k for k in early.assignments if k[0] == request_id]:
                results.assignments[key] |= early.assignments.pop(key)
            if request_id in early.ended:
                early.ended.discard(request_id)
                results.ended.add(request_id)
            if request_id in early.rejected:
                results.rejected[request_id] = early.rejected.pop(request_id)
