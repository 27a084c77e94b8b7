"""The help center's WebSocket: `/api/presence/ws`, authenticated by the subprotocols
`["assistline", "bearer.<technician access token>"]` (never a token in the URL).

Refusals close the socket with 1008 and a reason (bad or missing token, unknown technician);
a technician removed or disabled is refused, and their open sockets closed, with 4403
"access revoked".

Client frames: `{"type": "heartbeat"}` about every 10 s. A connection that stays silent
longer than the heartbeat timeout is closed (the help center reconnects), and once a
technician's last connection is gone the grace period decides their availability.
Server frames: `hello`, `alert`, `alert_withdrawn`, `status`, `heartbeat_ack`, `error`.
"""

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from starlette.websockets import WebSocketDisconnected

from contracts import new_id
from presence_svc.adapters.connections import Connection
from presence_svc.domain.errors import TechnicianDisabled
from presence_svc.handlers import Handlers
from presence_svc.handlers.presence import ACCESS_REVOKED_CLOSE, hello_frame
from servicekit.auth import WS_SUBPROTOCOL, Authenticator, Role
from servicekit.errors import DomainError
from servicekit.logging import get_logger

log = get_logger(__name__)

HEARTBEAT_TIMEOUT_CLOSE = 4000
MAX_FRAME_BYTES = 4096


def ws_router(handlers: Handlers, auth: Authenticator, *, heartbeat_timeout: float) -> APIRouter:
    router = APIRouter()
    presence, alerts = handlers.presence, handlers.alerts

    @router.websocket("/ws")
    async def help_center(websocket: WebSocket) -> None:
        # Accept first so that a refusal reaches the browser with its code and reason; echo
        # our subprotocol only to a client that offered it (a browser fails the handshake
        # when the server picks one it did not offer).
        offered = websocket.scope.get("subprotocols", [])
        await websocket.accept(subprotocol=WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None)
        try:
            principal = auth.principal(websocket)
            if principal.role is not Role.TECHNICIAN:
                raise DomainError("this connection needs a technician token")
            await presence.known(principal.subject, principal.account_id)
        except TechnicianDisabled:
            await websocket.close(code=ACCESS_REVOKED_CLOSE, reason="access revoked")
            return
        except DomainError as error:
            await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=error.message[:120])
            return

        technician_id = principal.subject
        connection = Connection(websocket)
        # Held here before the lease is taken, so frames published from now on reach it.
        presence.connections.add(technician_id, connection)
        try:
            view, prefs = await presence.attach(technician_id, new_id("corr"))
            await connection.send(hello_frame(view, prefs.model_dump()), before_ready=True)
            connection.ready = True
            for frame in await alerts.replay(technician_id):
                await connection.send(frame)
            await _receive_loop(connection, heartbeat_timeout)
        except (WebSocketDisconnect, WebSocketDisconnected):
            # Gone, whether noticed while receiving or while sending it a frame.
            log.debug("help center disconnected", technician_id=technician_id)
        except TechnicianDisabled:  # removed from the account meanwhile
            with contextlib.suppress(RuntimeError):  # unless the client already left
                await websocket.close(code=ACCESS_REVOKED_CLOSE, reason="access revoked")
        except DomainError as error:
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=error.message[:120])
        finally:
            # Also after a refused attach: its lease must not outlive the socket.
            await presence.detach(technician_id, last=presence.connections.remove(technician_id, connection))

    return router


async def _receive_loop(connection: Connection, heartbeat_timeout: float) -> None:
    websocket = connection.websocket
    while True:
        try:
            text = await asyncio.wait_for(websocket.receive_text(), timeout=heartbeat_timeout)
        except TimeoutError:
            await websocket.close(code=HEARTBEAT_TIMEOUT_CLOSE, reason="heartbeat timeout")
            return
        except KeyError:
            # A binary frame: receive_text() finds no "text" key in it.
            await connection.send({"type": "error", "message": "frames must be JSON text"})
            continue
        await connection.send(_answer(text))


def _answer(text: str) -> dict[str, object]:
    if len(text) > MAX_FRAME_BYTES:
        return {"type": "error", "message": f"frame too large (max {MAX_FRAME_BYTES} bytes)"}
    try:
        frame = json.loads(text)
    except json.JSONDecodeError:
        return {"type": "error", "message": "frames must be JSON objects"}
    if not isinstance(frame, dict):
        return {"type": "error", "message": "frames must be JSON objects"}
    if frame.get("type") == "heartbeat":
        return {"type": "heartbeat_ack"}
    return {"type": "error", "message": f"unknown frame type {frame.get('type')!r}; expected 'heartbeat'"}
