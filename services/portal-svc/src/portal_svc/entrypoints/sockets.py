"""What portal's two WebSockets (the customer's waiting screen and the dashboard) share:
accepting with our subprotocol, refusing with a reason, and holding the socket open."""

import contextlib
from collections.abc import Awaitable, Callable

from fastapi import WebSocket, WebSocketDisconnect, status

from servicekit.auth import WS_SUBPROTOCOL
from servicekit.exceptions import DomainError


async def accept(websocket: WebSocket) -> None:
    """Accepted first, checked after: only an open socket can say why it is refused. The
    subprotocol is echoed only when the client offered it (browsers require that)."""
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol=WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None)


async def refuse(websocket: WebSocket, reason: str) -> None:
    # A close reason is limited to 123 bytes by the protocol.
    await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=reason[:120])


async def hold_open(websocket: WebSocket, first_push: Callable[[], Awaitable[bool | None]]) -> None:
    """Sends the first frame, then waits for the close: the client sends nothing else. A
    first push that answers False (nothing more will come) ends the socket at once; a
    `DomainError` on the way closes it with its reason."""
    try:
        if await first_push() is not False:
            while True:
                await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    except DomainError as error:
        with contextlib.suppress(Exception):
            await refuse(websocket, error.message)
