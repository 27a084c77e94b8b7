"""A webhook receiver for tests: a real HTTP server on a loopback port that records every
delivery, can answer with a chosen status, and can be taken down and brought back on the
same port (deliveries meanwhile meet a refused connection, as with a receiver that is down)."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from testkit.backends import free_port

WEBHOOK_TEST_ENV = {
    # Receivers in tests listen on loopback, over plain HTTP.
    "WEBHOOK_ALLOW_PRIVATE": "true",
    # Backoff in seconds instead of hours: a receiver down for a few seconds is retried soon.
    "WEBHOOK_RETRY_SCHEDULE": "[0.5, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]",
    "WEBHOOK_POLL_SECONDS": "0.2",
    "WEBHOOK_ORDER_SETTLE_SECONDS": "0.3",
    "WEBHOOK_LEASE_SECONDS": "10",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
}
"""webhook-svc's settings for a system under test (`System(env=...)`)."""


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    def verified(self, secret: str) -> dict[str, Any]:
        """The body, verified with the independent `standardwebhooks` implementation (raises
        `WebhookVerificationError` if no signature matches `secret` or the timestamp is stale)."""
        return Webhook(secret).verify(self.body, self.headers)


class WebhookReceiver:
    def __init__(self, *, port: int | None = None, path: str = "/hook") -> None:
        self.port = port or free_port()
        self.path = path
        self.received: list[Received] = []
        self.status = 200
        self.attempts = 0
        self.delay = 0.0
        """Seconds the receiver takes to answer (a slow receiver)."""
        """Requests that reached the receiver, accepted or not."""
        """What the receiver answers (set e.g. 500 to make every delivery fail)."""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        self.attempts += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status < 300:
            self.received.append(Received(dict(request.headers), body))
        return Response(status_code=self.status)

    async def start(self) -> None:
        app = Starlette(routes=[Route(self.path, self._hook, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the receiver stopped during start-up")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Down: the port refuses connections until `start()` again."""
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.wait_for(self._task, timeout=30)
        self._server = self._task = None

    async def __aenter__(self) -> "WebhookReceiver":
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def events(self) -> list[dict[str, Any]]:
        """The CloudEvents received (accepted deliveries), in arrival order."""
        return [r.json for r in self.received]

    def of_subject(self, subject: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("subject") == subject]
