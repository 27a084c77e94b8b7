"""A real chat-svc (HTTP + WebSocket + RabbitMQ + MongoDB-wire) and helpers to drive it."""

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

import servicekit.mongo
from chat_svc.bootstrap import bootstrap
from chat_svc.config import Settings
from contracts import Envelope, RequestAssigned, RequestCancelled, TechnicianUpdated
from contracts.vocabulary import ConnectionMode, PortalType
from servicekit.auth import Role, websocket_subprotocols
from testkit import bearer, eventually
from testkit.amqp import AmqpTap, publish_raw
from testkit.plugin import make_token
from testkit.services import serve_in_process

ACCOUNT = "acc_chat"
COMPANY = "cmp_globex"

# chat-svc's record of each technician the tests use, as portal-svc would announce them.
TECHNICIANS = {
    "tec_ana": [COMPANY],
    "tec_zoe": [COMPANY],
    "tec_bob": [COMPANY],
    "tec_olga": ["cmp_initech"],
}


async def frame(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def frame_of(ws: ClientConnection, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
    """The next frame of type `kind` (and matching fields), skipping the others."""
    async with asyncio.timeout(timeout):
        while True:
            received = json.loads(await ws.recv())
            if received["type"] == kind and all(received.get(k) == v for k, v in match.items()):
                return received


async def messages(ws: ClientConnection, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    collected: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(collected) < count:
            received = json.loads(await ws.recv())
            if received["type"] == "message":
                collected.append(received)
    return collected


async def until(ws: ClientConnection, kind: str, timeout: float = 10.0, **match: Any) -> list[dict[str, Any]]:
    """Every frame up to and including the next one of type `kind` (and matching fields): the
    positive barrier before asserting that some frame did NOT come before it."""
    collected = []
    async with asyncio.timeout(timeout):
        while True:
            received = json.loads(await ws.recv())
            collected.append(received)
            if received["type"] == kind and all(received.get(k) == v for k, v in match.items()):
                return collected


async def closed(ws: ClientConnection, timeout: float = 10.0) -> tuple[list[dict[str, Any]], int | None, str]:
    """Every frame up to the close, and the close code and reason."""
    collected: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                collected.append(json.loads(await ws.recv()))
    except ConnectionClosed as closing:
        received = closing.rcvd
        return collected, received.code if received else None, received.reason if received else ""


class Chat:
    """Plays the other services (publishing their events) and the chat clients."""

    def __init__(self, base_url: str, rabbitmq_url: str, tap: AmqpTap) -> None:
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://") + "/api/chat/ws/"
        self.rabbitmq_url = rabbitmq_url
        self.tap = tap
        self.http = httpx.AsyncClient(base_url=base_url + "/api/chat", timeout=15)
        self.service: Any = None
        self.revisions: dict[str, int] = {}

    # Tests reach the socket helpers through the fixture (test modules cannot import conftest).
    frame = staticmethod(frame)
    frame_of = staticmethod(frame_of)
    messages = staticmethod(messages)
    until = staticmethod(until)
    closed = staticmethod(closed)

    @staticmethod
    def new_request() -> str:
        return "req_" + uuid.uuid4().hex[:10]

    @staticmethod
    def session_of(request_id: str) -> str:
        return "cht_" + request_id

    async def publish(self, event: Envelope[Any]) -> None:
        await publish_raw(
            self.rabbitmq_url,
            event.data.routing_key(),
            event.model_dump_json().encode(),
            message_id=str(event.event_id),
        )

    def assigned(
        self, request_id: str, technician_id: str = "tec_ana", *, assignment: int = 1, company_id: str = COMPANY
    ) -> Envelope[RequestAssigned]:
        data = RequestAssigned(
            request_id=request_id,
            account_id=ACCOUNT,
            company_id=company_id,
            technician_id=technician_id,
            mode=ConnectionMode.QUEUE,
            portal_type=PortalType.SMART_BOX,
            customer_name="Carla",
            description="printer on fire",
            alert=True,
            assignment=assignment,
            assigned_at=datetime.now(UTC),
        )
        return Envelope[RequestAssigned].of(data, producer="dispatch-svc", correlation_id=request_id)

    async def grant(
        self, technician_id: str, companies: list[str], *, enabled: bool = True, account_id: str = ACCOUNT
    ) -> None:
        """Announce the technician's current access as portal-svc does, and wait until
        chat-svc has stored it."""
        revision = self.revisions.get(technician_id, 0) + 1
        self.revisions[technician_id] = revision
        data = TechnicianUpdated(
            technician_id=technician_id,
            account_id=account_id,
            display_name=technician_id,
            company_ids=companies,
            capacity=3,
            enabled=enabled,
            revision=revision,
        )
        await self.publish(Envelope[TechnicianUpdated].of(data, producer="portal-svc", correlation_id=technician_id))
        records = self.service.handlers.technicians

        async def stored() -> bool:
            record = await records.record(technician_id)
            return record is not None and record.revision >= revision

        await eventually(stored, timeout=10, what=f"chat-svc stored {technician_id} revision {revision}")

    async def barrier(self) -> None:
        """Returns once chat-svc has consumed everything published before on the assignment
        queue: a fresh assignment behind it has opened its session (one consumer, in order)."""
        await self.open(self.new_request(), "tec_zoe")

    async def open(self, request_id: str, technician_id: str = "tec_ana", **kwargs: Any) -> str:
        """Assign the request as dispatch would, and wait until the session started."""
        await self.publish(self.assigned(request_id, technician_id, **kwargs))
        await self.started(request_id)
        return self.session_of(request_id)

    async def started(self, request_id: str) -> dict[str, Any]:
        return await self.tap.wait_for(
            lambda m: m["type"] == "ChatSessionStarted" and m["data"]["request_id"] == request_id
        )

    async def ended(self, request_id: str, timeout: float = 15.0) -> dict[str, Any]:
        return await self.tap.wait_for(
            lambda m: m["type"] == "ChatSessionEnded" and m["data"]["request_id"] == request_id,
            timeout=timeout,
        )

    def events(self, event_type: str, request_id: str) -> list[dict[str, Any]]:
        return [m for m in self.tap.of_type(event_type) if m["data"]["request_id"] == request_id]

    async def cancel(self, request_id: str, technician_id: str | None = None) -> None:
        data = RequestCancelled(
            request_id=request_id, account_id=ACCOUNT, company_id=COMPANY, technician_id=technician_id
        )
        await self.publish(Envelope[RequestCancelled].of(data, producer="portal-svc", correlation_id=request_id))

    @staticmethod
    def customer(request_id: str, company_id: str = COMPANY) -> str:
        return make_token(
            Role.CUSTOMER, subject=request_id, account_id=ACCOUNT, company_ids=[company_id], request_id=request_id
        )

    @staticmethod
    def technician(technician_id: str = "tec_ana", companies: list[str] | None = None, name: str = "Ana") -> str:
        return make_token(
            Role.TECHNICIAN,
            subject=technician_id,
            account_id=ACCOUNT,
            company_ids=[COMPANY] if companies is None else companies,
            name=name,
        )

    @staticmethod
    def admin(account_id: str = ACCOUNT) -> str:
        return make_token(Role.ADMIN, subject="adm_1", account_id=account_id)

    def connect(self, session_id: str, token: str, *, after: str | None = None, header: bool = False):
        """A socket authenticated as the web UI does it (subprotocols), or by header."""
        url = self.ws_url + session_id
        if after:
            url += f"?after={after}"
        if header:
            return connect(url, additional_headers=bearer(token))
        return connect(url, subprotocols=websocket_subprotocols(token))  # type: ignore[arg-type]

    def auth(self, token: str) -> dict[str, str]:
        return bearer(token)


async def running_chat(real_backends, name: str, **overrides: Any):
    overrides.setdefault("abandon_check_seconds", 0.2)
    # Each write's outbox cleared at once: a test's archive step moves what just ended (the
    # batched clear has its tests in servicekit, and runs in the cost test and end to end).
    overrides.setdefault("outbox_clear_seconds", 0.0)
    settings = real_backends.settings(Settings, mongodb_db=f"chat-{name}-{uuid.uuid4().hex[:6]}", **overrides)
    service = bootstrap(settings)
    async with AmqpTap(real_backends.rabbitmq_url, "chat.#") as tap:
        async with serve_in_process(service.app) as base_url:
            chat = Chat(base_url, real_backends.rabbitmq_url, tap)
            chat.service = service
            for technician_id, companies in TECHNICIANS.items():
                await chat.grant(technician_id, companies)
            try:
                yield chat
            finally:
                await chat.http.aclose()


@pytest.fixture(scope="module")
async def chat(real_backends):
    # Long enough that no session of these tests is abandoned while a test looks at it.
    async for running in running_chat(real_backends, "main", customer_abandon_seconds=120):
        yield running


@pytest.fixture(scope="module")
async def impatient_chat(real_backends):
    """A chat-svc whose customers abandon after one second away (its own module only:
    two instances alive at once would compete for the same queues)."""
    async for running in running_chat(real_backends, "abandon", customer_abandon_seconds=1.0):
        yield running


@pytest.fixture(scope="module")
async def replicas(real_backends):
    """Two chat-svc replicas on ONE database and vhost, as production runs them: they share
    the event queues (either consumes an event) and fan live frames out to each other."""
    settings = real_backends.settings(
        Settings, mongodb_db=f"chat-replicas-{uuid.uuid4().hex[:6]}", customer_abandon_seconds=120
    )
    first, second = bootstrap(settings), bootstrap(settings)
    async with AmqpTap(real_backends.rabbitmq_url, "chat.#") as tap:
        async with serve_in_process(first.app) as url_a, serve_in_process(second.app) as url_b:
            a, b = Chat(url_a, real_backends.rabbitmq_url, tap), Chat(url_b, real_backends.rabbitmq_url, tap)
            a.service, b.service = first, second
            b.revisions = a.revisions  # one portal announcing technicians to both
            for technician_id, companies in TECHNICIANS.items():
                await a.grant(technician_id, companies)
            try:
                yield a, b
            finally:
                await a.http.aclose()
                await b.http.aclose()


@pytest.fixture
async def measured_chat(real_backends, monkeypatch):
    """A chat-svc whose store commands count into their own listener (the suite's other
    instances share the process-wide one), with its periodic tasks out of the way."""
    stats = servicekit.mongo.CommandStats()
    monkeypatch.setattr(servicekit.mongo, "STORE_STATS", stats)
    idle = 3600.0
    async for running in running_chat(
        real_backends,
        "cost",
        outbox_sweep_seconds=idle,
        outbox_clear_seconds=idle,  # the test clears, inside the window it measures
        archive_check_seconds=idle,
        replica_lease_seconds=3 * idle,
        access_cache_seconds=idle,
        customer_abandon_seconds=idle,
        abandon_check_seconds=idle,
        socket_release_seconds=idle,  # the test flushes, inside the window it measures
    ):
        monkeypatch.undo()
        yield running, stats


@pytest.fixture(scope="module")
async def small_buckets_chat(real_backends):
    """Buckets of three messages, so a short chat spans several."""
    async for running in running_chat(real_backends, "buckets", customer_abandon_seconds=120, message_bucket_size=3):
        yield running
