"""The customer's live status: WebSocket `/api/portal/requests/{id}/ws` (token as subprotocol).

The waiting screen gets its status, queue position and estimated wait pushed, never polled.
Whichever replica consumes a request event tells every replica (`servicekit.live`, topic
`company.<id>`); each re-reads the status of the customers of that company whose sockets it
holds (by `_id`, plus the queue's rank count over the live collection) and sends a frame
only when something the customer sees changed. The socket answers the first frame at once,
so a customer who reconnects is never behind.
"""

import asyncio
from typing import Any

from fastapi import APIRouter, WebSocket
from fastapi.encoders import jsonable_encoder

from portal_svc.entrypoints.sockets import accept, hold_open, refuse
from portal_svc.handlers.customers import CustomerPortal
from servicekit.auth import Authenticator, Role
from servicekit.exceptions import DomainError
from servicekit.live import LiveFanout, LiveFrame
from servicekit.logging import get_logger

log = get_logger(__name__)

SHOWN = ("status", "message", "position", "estimated_wait_seconds", "nobody_available", "chat_ws_path")
"""What a frame is about: a change in anything else (timestamps) is not worth a frame."""
FINISHED = frozenset({"ended", "rejected", "cancelled"})


class Watcher:
    def __init__(self, websocket: WebSocket, request_id: str, principal: Any) -> None:
        self.websocket = websocket
        self.request_id = request_id
        self.principal = principal
        self.last: tuple[Any, ...] | None = None
        self.lock = asyncio.Lock()


class CustomerHub:
    """The customer sockets this replica holds, by company."""

    def __init__(self, customers: CustomerPortal, fanout: LiveFanout | None) -> None:
        self._customers = customers
        self._fanout = fanout
        self._by_company: dict[str, set[Watcher]] = {}

    async def changed(self, company_id: str) -> None:
        """Called after a request of `company_id` moved (by whichever replica consumed it)."""
        if self._fanout is None:
            await self.refresh(company_id)
        else:
            await self._fanout.publish(f"company.{company_id}", {"type": "changed"})

    async def deliver(self, frame: LiveFrame) -> None:
        if frame.topic.startswith("company."):
            await self.refresh(frame.topic.removeprefix("company."))

    async def refresh(self, company_id: str) -> None:
        for watcher in list(self._by_company.get(company_id, ())):
            try:
                await self.push(watcher)
            except Exception as error:  # a socket closing meanwhile must not stop the others
                log.info("customer socket not refreshed", request_id=watcher.request_id, error=type(error).__name__)

    async def push(self, watcher: Watcher) -> bool:
        """Sends the status if it changed; False once the request finished."""
        async with watcher.lock:
            view = await self._customers.status(watcher.principal, watcher.request_id)
            shown = tuple(str(view.get(k)) for k in SHOWN)
            if shown != watcher.last:
                watcher.last = shown
                await watcher.websocket.send_json({"type": "status", "status": jsonable_encoder(view)})
            return view["status"] not in FINISHED

    def add(self, company_id: str, watcher: Watcher) -> None:
        self._by_company.setdefault(company_id, set()).add(watcher)

    def remove(self, company_id: str, watcher: Watcher) -> None:
        watchers = self._by_company.get(company_id)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._by_company[company_id]


def customer_ws_router(hub: CustomerHub, auth: Authenticator) -> APIRouter:
    router = APIRouter()

    @router.websocket("/requests/{request_id}/ws")
    async def follow(websocket: WebSocket, request_id: str) -> None:
        await accept(websocket)
        try:
            principal = auth.principal(websocket)
            if principal.role is not Role.CUSTOMER or principal.request_id != request_id:
                raise DomainError("this token is not valid for that request")
            company_id = principal.company_ids[0]
        except (DomainError, IndexError) as error:
            await refuse(websocket, str(getattr(error, "message", "refused")))
            return
        watcher = Watcher(websocket, request_id, principal)
        hub.add(company_id, watcher)
        try:
            await hold_open(websocket, lambda: hub.push(watcher))
        finally:
            hub.remove(company_id, watcher)

    return router
