"""The fault suite's harness (tests-e2e/faults): a private system, a tenant, a workforce, a ledger of the bus.

Every fault test runs the same loop: customers submit through the gateway, technicians
(driven by what they see on the bus) chat briefly and end their sessions, a failure is
inflicted somewhere in the middle, and at the end the ledger proves that every accepted
request was served, none was assigned twice and no technician ever held more chats than
their capacity.
"""

import asyncio
import contextlib
import dataclasses
import json
import shutil
import subprocess
import time
import urllib.parse
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
import websockets
from pymongo import AsyncMongoClient

from contracts import EVENTS_EXCHANGE
from testkit.backends import EmbeddedMongo, isolated_vhost
from testkit.http import bearer
from testkit.plugin import Backends
from testkit.system import System
from testkit.tenants import Tenant, portals_per_mode, provision_tenant
from testkit.waiting import eventually
from testkit.ws import connect, ws_url

PASSWORD = "faults-password"
RETRYABLE = {502, 503, 504}
"""What the gateway answers while a service restarts or cannot reach its store."""
SUBMIT_RETRYABLE = RETRYABLE | {500}
"""A customer also tries again after a server error (counted, see `Customers.retried`)."""


# The system under test ------------------------------------------------------------------


def vhost_of(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/")) or "/"


def drop_broker_connections(rabbitmq_url: str, reason: str) -> int:
    """Closes every AMQP connection of the run's vhost (the broker outage the services see);
    returns how many there were."""
    ctl = shutil.which("rabbitmqctl") or "rabbitmqctl"
    listing = subprocess.run(
        [ctl, "list_connections", "-q", "--no-table-headers", "-p", vhost_of(rabbitmq_url), "name"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    subprocess.run(
        [shutil.which("rabbitmqctl") or "rabbitmqctl", "close_all_connections", "-p", vhost_of(rabbitmq_url), reason],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return len([line for line in listing.splitlines() if line.strip()])


def _list_queues(rabbitmq_url: str, *columns: str) -> list[list[str]]:
    listing = subprocess.run(
        [
            shutil.which("rabbitmqctl") or "rabbitmqctl",
            "list_queues",
            "-q",
            "--no-table-headers",
            "-p",
            vhost_of(rabbitmq_url),
            "name",
            *columns,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [line.strip().split("\t") for line in listing.splitlines() if line.strip()]


def broker_queues(rabbitmq_url: str) -> dict[str, int]:
    """Queue name -> ready messages, for the run's vhost."""
    return {row[0]: int(row[-1]) for row in _list_queues(rabbitmq_url, "messages_ready") if len(row) >= 2}


def busy_service_queues(rabbitmq_url: str) -> dict[str, int]:
    """Service queues with messages ready or delivered but not yet acknowledged."""
    busy = {}
    for row in _list_queues(rabbitmq_url, "messages_ready", "messages_unacknowledged"):
        if len(row) < 3 or not row[0].split(".")[0].endswith("-svc") or row[0].endswith(".dlq"):
            continue  # taps, dead-letter queues
        if int(row[1]) + int(row[2]):
            busy[row[0]] = int(row[1]) + int(row[2])
    return busy


async def consumed(rabbitmq_url: str, *, timeout: float = 30.0) -> None:
    """The positive barrier before asserting that something did NOT happen: every message
    published so far (publishes are confirmed, so they are queued) has been consumed and
    acknowledged by the services — including what their handling published in turn, hence
    two consecutive idle observations."""
    idle_in_a_row = 0

    async def idle() -> bool:
        nonlocal idle_in_a_row
        busy = await asyncio.to_thread(busy_service_queues, rabbitmq_url)
        idle_in_a_row = 0 if busy else idle_in_a_row + 1
        return idle_in_a_row >= 2

    await eventually(idle, timeout=timeout, every=0.3, what="service queues drained")


@contextlib.asynccontextmanager
async def private_system(
    real_backends: Backends, tmp_path_factory: Any, tag: str, **system_options: Any
) -> AsyncIterator[System]:
    """A system of its own for a suite that kills processes, drops broker connections or
    restarts the store: its own RabbitMQ vhost (nothing it does reaches the queues of the
    session's shared system) and, when the run uses the embedded MongoDB-wire server, its own
    server too (restarting it must not disturb other suites). Fresh run id, fresh databases.
    `system_options` go to `System` (replicas, dispatch_workers, env)."""
    run_id = f"{real_backends.run_id}{tag[0]}{uuid.uuid4().hex[:6]}"
    with ExitStack() as stack:
        rabbitmq_url = stack.enter_context(isolated_vhost(real_backends.rabbitmq_url, f"assistline-{tag}-{run_id}"))
        mongo, mongodb_url = None, real_backends.mongodb_url
        if real_backends.embedded_mongo is not None:
            mongo = EmbeddedMongo(tmp_path_factory.mktemp(f"{tag}-mongo"))
            mongo.start()
            stack.callback(mongo.stop)
            mongodb_url = mongo.url
        backends = dataclasses.replace(
            real_backends, run_id=run_id, rabbitmq_url=rabbitmq_url, mongodb_url=mongodb_url, embedded_mongo=mongo
        )
        system = System(backends, tmp_path_factory.mktemp(f"{tag}-system"), **system_options)
        stack.callback(system.stop)
        await system.start()
        yield system


class Summary:
    """The one-line counts a suite prints at once and again at the end of the run.

    In a conftest: `SUMMARY = Summary("fault suite")`, a `report` fixture returning
    `SUMMARY.reporter(request)`, and `pytest_terminal_summary = SUMMARY.terminal_summary`."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []

    def reporter(self, request: Any) -> Callable[[str], None]:
        terminal = request.config.pluginmanager.get_plugin("terminalreporter")

        def say(line: str) -> None:
            self.lines.append(line)
            if terminal is not None:
                terminal.write_line("")
                terminal.write_line(line)
            else:
                print(line)

        return say

    def terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.section(self.title)
            for line in self.lines:
                terminalreporter.write_line(line)


async def all_ready(system: System, timeout: float = 90.0, *, running_only: bool = False) -> None:
    """Every service process answers `/ready` directly and through the gateway (with
    `running_only`, a replica the test killed and keeps down is not waited for)."""
    await system.wait_ready(timeout, running_only=running_only)


def dispatch_db(system: System) -> Any:
    """dispatch-svc's own database, read by the test to check capacity at rest."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        system.backends.mongodb_url, serverSelectionTimeoutMS=20_000
    )
    return client, client[system.backends.database("dispatch-svc")]


# Tenant -----------------------------------------------------------------------------------


async def provision(gateway: str, tag: str, *, modes: dict[str, int], technicians: int, capacity: int) -> Tenant:
    """A fresh account: `modes[m]` portals of mode m, each with its company, and technicians
    who can access every one of them."""
    return await provision_tenant(
        gateway,
        f"Faults {tag}",
        companies=portals_per_mode(modes),
        technicians=technicians,
        capacity=capacity,
        password=PASSWORD,
    )


async def request_with_retry(
    client: httpx.AsyncClient, method: str, url: str, *, timeout: float = 60.0, **kwargs: Any
) -> httpx.Response:
    """An HTTP call retried while the gateway says the service is momentarily gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = await client.request(method, url, **kwargs)
            if response.status_code not in RETRYABLE or time.monotonic() > deadline:
                return response
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.5)


# What the bus says ------------------------------------------------------------------------


class DurableTap:
    """An external subscriber that loses nothing across a broker outage.

    Unlike an exclusive queue (deleted with its connection), this queue outlives dropped
    connections, so events published while we reconnect wait for us; redeliveries of
    messages we had not acknowledged yet are recognised by event id.
    """

    def __init__(self, url: str, *binding_keys: str, on_event: Callable[[dict[str, Any]], None]) -> None:
        self.url = url
        self.binding_keys = binding_keys
        self.on_event = on_event
        self.queue_name = f"faults-tap-{uuid.uuid4().hex[:8]}"
        self.seen: set[str] = set()
        self.messages: list[dict[str, Any]] = []

    async def __aenter__(self) -> "DurableTap":
        self.connection = await aio_pika.connect_robust(self.url, reconnect_interval=1)
        channel = await self.connection.channel()
        exchange = await channel.declare_exchange(EVENTS_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        self.queue = await channel.declare_queue(self.queue_name, durable=True, arguments={"x-expires": 600_000})
        for key in self.binding_keys:
            await self.queue.bind(exchange, routing_key=key)
        await self.queue.consume(self._on_message)
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.queue.delete(if_unused=False, if_empty=False)
        await self.connection.close()

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            try:
                body = json.loads(message.body)
                event_id = body["event_id"]
            except (ValueError, TypeError, KeyError):
                return  # poison a test published on purpose: not an event
            if event_id in self.seen:
                return
            self.seen.add(event_id)
            self.messages.append(body)
            self.on_event(body)

    def of_type(self, event_type: str, **data: Any) -> list[dict[str, Any]]:
        return [
            m for m in self.messages if m["type"] == event_type and all(m["data"].get(k) == v for k, v in data.items())
        ]


LEDGER_KEYS = ("request.assigned.*", "request.queued.*", "chat.started.*", "chat.ended.*")


@dataclass
class Ledger:
    """Assignments, sessions and per-technician load, as an external system sees them."""

    capacity: int
    assignments: dict[tuple[str, int], set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    """(request, assignment no.) -> {(event id, technician)}; more than one entry is a double assignment."""
    active: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    max_active: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)
    started: set[str] = field(default_factory=set)
    after_end: list[str] = field(default_factory=list)
    on_assigned: Callable[[str, str, int], None] | None = None

    def on_event(self, message: dict[str, Any]) -> None:
        data = message["data"]
        request_id = data.get("request_id", "")
        match message["type"]:
            case "RequestAssigned":
                number = data.get("assignment", 1)
                self.assignments[(request_id, number)].add((message["event_id"], data["technician_id"]))
                if request_id in self.ended:
                    self.after_end.append(request_id)
                # A later assignment of the same request supersedes an unacknowledged one.
                for held in self.active.values():
                    held.discard(request_id)
                technician = data["technician_id"]
                self.active[technician].add(request_id)
                load = len(self.active[technician])
                self.max_active[technician] = max(self.max_active.get(technician, 0), load)
                if load > self.capacity:
                    self.violations.append(f"{technician} held {load} chats: {sorted(self.active[technician])}")
                if self.on_assigned:
                    self.on_assigned(technician, request_id, number)
            case "RequestQueued":
                for held in self.active.values():
                    held.discard(request_id)
            case "ChatSessionStarted":
                self.started.add(request_id)
            case "ChatSessionEnded":
                self.active[data["technician_id"]].discard(request_id)
                self.ended.add(request_id)

    def doubled(self) -> list[str]:
        """Two claims of one assignment, or an assignment after the chat had ended."""
        twice = {f"{r}#{n}" for (r, n), claims in self.assignments.items() if len(claims) > 1}
        return sorted(twice | {f"{r} after its end" for r in self.after_end})

    def reassigned(self) -> int:
        return len({r for (r, n) in self.assignments if n > 1})

    def assigned_requests(self) -> set[str]:
        return {r for (r, _) in self.assignments}

    def peak(self) -> int:
        return max(self.max_active.values(), default=0)


# The people -------------------------------------------------------------------------------


class Technician:
    """Holds the help center open, accepts what they are alerted to, chats briefly, ends.

    `presence_url` (a presence replica's own address) pins the first help-center connection
    to that replica, so a test knows whose socket a kill drops; reconnections go through the
    gateway, as the page's would. With `reconnect=False` the help center stays closed once
    its socket drops (a technician whose laptop went away with the replica). With
    `alerted_only=True` they serve an assignment only once their help center showed its alert
    (as a person does): an alert that never arrives leaves the assignment to lapse, which the
    ledger shows. One who went away always behaves so."""

    def __init__(
        self,
        gateway: str,
        login: dict[str, Any],
        chat_seconds: float,
        *,
        presence_url: str | None = None,
        reconnect: bool = True,
        alerted_only: bool = False,
    ) -> None:
        self.id = login["user_id"]
        self.token = login["token"]
        self.gateway = gateway
        self.chat_seconds = chat_seconds
        self.presence_url = presence_url
        self.reconnect = reconnect
        self.alerted_only = alerted_only or not reconnect
        self.http = httpx.AsyncClient(base_url=gateway, headers=bearer(self.token), timeout=30)
        self.tasks: set[asyncio.Task[None]] = set()
        self.end_failures: list[str] = []
        self.alerts: set[str] = set()
        """Request ids of every alert the help center showed (live or replayed on connect)."""
        self.help_center_connections = 0
        self.connected = asyncio.Event()
        self.unseen: set[str] = set()
        """Assigned (by the bus) but not yet alerted: see `serve`."""

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def start(self) -> None:
        self.spawn(self._help_center())
        await self.set_status("available")

    async def set_status(self, status: str, timeout: float = 30.0) -> None:
        # Right after provisioning, presence-svc may not have heard of this technician yet.
        deadline = time.monotonic() + timeout
        while True:
            response = await request_with_retry(self.http, "PUT", "/api/presence/me/status", json={"status": status})
            if response.is_success or time.monotonic() > deadline:
                response.raise_for_status()
                return
            await asyncio.sleep(0.5)

    async def _help_center(self) -> None:
        """The presence socket, reopened whenever it drops (as the help center page does)."""
        while True:
            base = self.presence_url if self.presence_url and not self.help_center_connections else self.gateway
            try:
                async with await connect(ws_url(base, "/api/presence/ws"), self.token) as socket:
                    beat = asyncio.create_task(self._beat(socket))
                    try:
                        async for raw in socket:
                            frame = json.loads(raw)
                            if frame.get("type") == "hello":
                                self.help_center_connections += 1
                                self.connected.set()
                            if frame.get("type") == "alert":
                                self.alerts.add(frame["request_id"])
                                self.spawn(self.accept(frame["request_id"]))
                                if frame["request_id"] in self.unseen:
                                    self.unseen.discard(frame["request_id"])
                                    self.spawn(self.chat_and_end(frame["request_id"]))
                    finally:
                        beat.cancel()
                        self.connected.clear()
            except (OSError, websockets.WebSocketException):
                pass
            if not self.reconnect and self.help_center_connections:
                return
            await asyncio.sleep(0.5)

    @staticmethod
    async def _beat(socket: Any) -> None:
        while True:
            await socket.send(json.dumps({"type": "heartbeat"}))
            await asyncio.sleep(5)

    async def accept(self, request_id: str) -> None:
        # Web: 409 means a colleague was faster. Queue: this acknowledges the assignment.
        await request_with_retry(self.http, "POST", f"/api/dispatch/requests/{request_id}/accept")

    def serve(self, request_id: str) -> None:
        # An assignment they were never alerted to lapses and goes to a colleague.
        if not self.alerted_only or request_id in self.alerts:
            self.spawn(self.chat_and_end(request_id))
        else:
            self.unseen.add(request_id)

    async def chat_and_end(self, request_id: str, *, timeout: float = 120.0) -> None:
        session_id = f"cht_{request_id}"
        with contextlib.suppress(OSError, websockets.WebSocketException, TimeoutError):
            async with asyncio.timeout(5):
                async with await connect(ws_url(self.gateway, f"/api/chat/ws/{session_id}"), self.token) as chat:
                    await chat.send(json.dumps({"type": "message", "text": "Hello, how can I help?"}))
                    await asyncio.sleep(self.chat_seconds)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                response = await self.http.post(
                    f"/api/chat/sessions/{session_id}/end", json={"outcome": "resolved", "notes": "faults"}
                )
                # 409: already ended; 403: the session went to a colleague after a lapse.
                if response.status_code in (200, 409, 403):
                    return
            except httpx.TransportError:
                pass
            # 404 until chat-svc has opened the session (the assignment may still be in flight).
            await asyncio.sleep(0.5)
        self.end_failures.append(request_id)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.http.aclose()


class Workforce:
    """Every technician of a tenant, serving what the ledger sees assigned to them."""

    def __init__(
        self,
        gateway: str,
        tenant: Tenant,
        ledger: Ledger,
        *,
        chat_seconds: float = 0.3,
        placement: Callable[[int], dict[str, Any]] | None = None,
    ) -> None:
        """`placement(i)` gives the i-th technician's `Technician` options (e.g. `presence_url`)."""
        self.technicians = {
            login["user_id"]: Technician(gateway, login, chat_seconds, **(placement(index) if placement else {}))
            for index, login in enumerate(tenant.logins)
        }
        self.served: set[tuple[str, int]] = set()
        ledger.on_assigned = self._assigned

    def _assigned(self, technician_id: str, request_id: str, number: int) -> None:
        technician = self.technicians.get(technician_id)
        if technician is not None and (request_id, number) not in self.served:
            self.served.add((request_id, number))
            technician.serve(request_id)

    async def start(self) -> None:
        for technician in self.technicians.values():
            await technician.start()

    async def close(self) -> None:
        for technician in self.technicians.values():
            await technician.close()


class Customers:
    """Customers arriving at a steady rate on a tenant's portals; keeps the accepted ones."""

    def __init__(self, gateway: str, tenant: Tenant, modes: list[str]) -> None:
        self.gateway = gateway
        self.portals = [(mode, sub, company) for mode in modes for sub, company in tenant.portals_of_mode(mode)]
        self.accepted: dict[str, str] = {}  # request id -> customer token
        self.refused: list[str] = []
        self.retried = 0
        self.http = httpx.AsyncClient(base_url=gateway, timeout=30)

    async def submit(self, index: int) -> None:
        _, subdomain, _ = self.portals[index % len(self.portals)]
        body = {"customer_name": f"Customer {index}", "description": "It does not work"}
        deadline = time.monotonic() + 60
        while True:
            try:
                response = await self.http.post(f"/api/portal/public/portals/{subdomain}/requests", json=body)
            except httpx.TransportError as error:
                response = None
                last = repr(error)
            if response is not None and response.status_code == 201:
                self.accepted[response.json()["request_id"]] = response.json()["token"]
                return
            if response is not None:
                last = f"{response.status_code} {response.text[:200]}"
                if response.status_code not in SUBMIT_RETRYABLE:
                    break
            self.retried += 1
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)  # a customer tries again when the page says "try later"
        self.refused.append(last)

    async def arrive(self, count: int, rate: float, *, start_at: int = 0) -> None:
        arrivals = []
        for index in range(start_at, start_at + count):
            arrivals.append(asyncio.create_task(self.submit(index)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*arrivals)

    async def status(self, request_id: str) -> dict[str, Any]:
        response = await request_with_retry(
            self.http,
            "GET",
            f"/api/portal/requests/{request_id}",
            headers=bearer(self.accepted[request_id]),
        )
        response.raise_for_status()
        return response.json()

    async def close(self) -> None:
        await self.http.aclose()


# The verdict ------------------------------------------------------------------------------


@dataclass
class Verdict:
    name: str
    submitted: int
    served: int
    lost: list[str]
    doubled: list[str]
    violations: list[str]
    reassigned: int
    peak: int
    capacity: int
    refused: list[str]
    retried: int
    held_at_rest: dict[str, list[str]]
    seconds: float
    extra: str = ""

    def line(self, suite: str = "faults") -> str:
        text = (
            f"{suite}: {self.name} — {self.submitted} submitted, {self.served} served "
            f"({self.served - self.reassigned} assigned once, {self.reassigned} re-assigned after a lapse), "
            f"{len(self.lost)} lost, {len(self.doubled)} assigned twice, max chats {self.peak}/{self.capacity}, "
            f"{len(self.refused)} refused ({self.retried} submissions retried), {self.seconds:.0f}s"
        )
        return f"{text}; {self.extra}" if self.extra else text

    def assert_sound(self) -> None:
        assert not self.refused, f"submissions refused for good: {self.refused[:5]}"
        assert not self.lost, f"accepted requests never served: {self.lost}"
        assert not self.doubled, f"requests assigned twice: {self.doubled}"
        assert not self.violations, f"capacity exceeded: {self.violations}"
        assert not any(self.held_at_rest.values()), f"slots still held at rest: {self.held_at_rest}"


async def settle(
    name: str,
    system: System,
    tenant: Tenant,
    ledger: Ledger,
    customers: Customers,
    started: float,
    *,
    drain_timeout: float = 120.0,
    extra: str = "",
    running_only: bool = False,
) -> Verdict:
    """Waits until every accepted request is served (or the timeout), then checks everything.
    `running_only`: settle with a killed replica still down (the survivors do the work)."""
    await all_ready(system, running_only=running_only)
    deadline = time.monotonic() + drain_timeout
    while time.monotonic() < deadline and not set(customers.accepted) <= ledger.ended:
        await asyncio.sleep(0.5)
    technician_ids = [login["user_id"] for login in tenant.logins]
    client, db = dispatch_db(system)
    try:

        async def at_rest() -> dict[str, list[str]] | None:
            held = {
                t["_id"]: t.get("active", []) async for t in db["technicians"].find({"_id": {"$in": technician_ids}})
            }
            return None if any(held.values()) else held

        try:
            held = await eventually(at_rest, timeout=30)
        except TimeoutError:
            held = {
                t["_id"]: t.get("active", []) async for t in db["technicians"].find({"_id": {"$in": technician_ids}})
            }
    finally:
        await client.close()
    accepted = set(customers.accepted)
    return Verdict(
        name=name,
        submitted=len(accepted),
        served=len(accepted & ledger.ended),
        lost=sorted(accepted - ledger.ended),
        doubled=ledger.doubled(),
        violations=ledger.violations,
        reassigned=ledger.reassigned(),
        peak=ledger.peak(),
        capacity=tenant.capacity,
        refused=customers.refused,
        retried=customers.retried,
        held_at_rest=held,
        seconds=time.monotonic() - started,
        extra=extra,
    )
