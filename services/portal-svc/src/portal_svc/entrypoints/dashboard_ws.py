"""The dashboard pushed live: WebSocket `/api/portal/dashboard/ws?company_id=...` (token as
subprotocol, as the customer's waiting screen does).

Whichever replica consumes an event that changes a company's figures or live state tells
every replica (`servicekit.live`, topic `dashboard.<company>`); each re-reads the summary for
the dashboard sockets of that company it holds and sends it; a burst of events while a
summary is being read costs one more read, not one per event. The socket sends the summary
at once, so a page that reconnects is never behind. Each push re-reads the viewer's record,
and removing a supervisor tells every replica (topic `viewer.<id>`) to close their sockets now.
"""

import asyncio
import contextlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket
from fastapi.encoders import jsonable_encoder

from portal_svc.entrypoints.dashboard import Current
from portal_svc.entrypoints.sockets import accept, hold_open, refuse
from portal_svc.handlers.dashboard import VIEWERS, Dashboard
from servicekit.auth import Authenticator, Principal
from servicekit.exceptions import DomainError
from servicekit.live import LiveFanout, LiveFrame
from servicekit.logging import get_logger

log = get_logger(__name__)

COMPANY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TOPIC = "dashboard."
VIEWER_TOPIC = "viewer."


class Viewer:
    def __init__(self, websocket: WebSocket, principal: Principal) -> None:
        self.websocket = websocket
        self.principal = principal
        self.lock = asyncio.Lock()


class DashboardHub:
    """The dashboard sockets this replica holds, by company."""

    def __init__(self, dashboard: Dashboard, current: Current, fanout: LiveFanout | None) -> None:
        self._dashboard = dashboard
        self._current = current
        self._fanout = fanout
        self._by_company: dict[str, set[Viewer]] = {}
        self._refreshing: set[str] = set()
        self._again: set[str] = set()

    async def revoked(self, user_id: str) -> None:
        """Called after a viewer was removed: their sockets close on every replica."""
        if self._fanout is None:
            await self.close_of(user_id)
        else:
            await self._fanout.publish(VIEWER_TOPIC + user_id, {"type": "revoked"})

    async def close_of(self, user_id: str) -> None:
        for viewers in list(self._by_company.values()):
            for viewer in list(viewers):
                if viewer.principal.subject == user_id:
                    with contextlib.suppress(Exception):
                        await refuse(viewer.websocket, "access removed")

    async def changed(self, company_id: str) -> None:
        """Called after a company's figures or live state changed (by whichever replica)."""
        if self._fanout is None:
            await self.refresh(company_id)
        else:
            await self._fanout.publish(TOPIC + company_id, {"type": "changed"})

    async def deliver(self, frame: LiveFrame) -> None:
        if frame.topic.startswith(TOPIC):
            await self.refresh(frame.topic.removeprefix(TOPIC))
        elif frame.topic.startswith(VIEWER_TOPIC):
            await self.close_of(frame.topic.removeprefix(VIEWER_TOPIC))

    async def refresh(self, company_id: str) -> None:
        if not self._by_company.get(company_id):
            return
        if company_id in self._refreshing:
            self._again.add(company_id)
            return
        self._refreshing.add(company_id)
        try:
            while True:
                self._again.discard(company_id)
                await self._push_all(company_id)
                if company_id not in self._again:
                    return
        finally:
            self._refreshing.discard(company_id)

    async def _push_all(self, company_id: str) -> None:
        summary = await self._dashboard.summary(company_id)
        for viewer in list(self._by_company.get(company_id, ())):
            try:
                await self.push(viewer, company_id, summary)
            except Exception as error:  # a socket closing meanwhile must not stop the others
                log.info("dashboard socket not refreshed", error=type(error).__name__)

    async def push(self, viewer: Viewer, company_id: str, summary: dict[str, Any] | None = None) -> None:
        async with viewer.lock:
            try:
                await self._dashboard.check_viewer(await self._current(viewer.principal), company_id)
            except DomainError as error:
                await refuse(viewer.websocket, error.message)
                return
            summary = summary or await self._dashboard.summary(company_id)
            await viewer.websocket.send_json({"type": "summary", "summary": jsonable_encoder(summary)})

    def add(self, company_id: str, viewer: Viewer) -> None:
        self._by_company.setdefault(company_id, set()).add(viewer)

    def remove(self, company_id: str, viewer: Viewer) -> None:
        viewers = self._by_company.get(company_id)
        if viewers is not None:
            viewers.discard(viewer)
            if not viewers:
                del self._by_company[company_id]


def dashboard_ws_router(hub: DashboardHub, dashboard: Dashboard, auth: Authenticator, current: Current) -> APIRouter:
    router = APIRouter()

    @router.websocket("/dashboard/ws")
    async def follow(websocket: WebSocket, company_id: Annotated[str, Query(max_length=200)] = "") -> None:
        await accept(websocket)
        try:
            if not COMPANY_ID.fullmatch(company_id):
                raise DomainError("company_id must name a company (letters, digits, _ and -)")
            principal = auth.principal(websocket)
            if principal.role not in VIEWERS:
                raise DomainError("this connection needs an admin or supervisor token")
            await dashboard.check_viewer(await current(principal), company_id)
        except DomainError as error:
            await refuse(websocket, str(error.message))
            return
        viewer = Viewer(websocket, principal)
        hub.add(company_id, viewer)
        try:
            await hold_open(websocket, lambda: hub.push(viewer, company_id))
        finally:
            hub.remove(company_id, viewer)

    return router
