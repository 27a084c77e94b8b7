"""The chat socket: `/api/chat/ws/{session_id}[?after=<message id>]`.

The client authenticates with the subprotocols `["assistline", "bearer.<JWT>"]` (or an
`Authorization: Bearer` header); a token in the URL is never read, so none ends up in logs.
Refusals are explained: an `error` frame, then close code 1008 with the reason. Limits
broken while connected (size, rate) get an `error` frame and the socket stays open. A
technician who loses access to the company meanwhile is closed with 4403 "access revoked".
"""

import json
from typing import Any

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError

from chat_svc.adapters.hub import Connection, token_key
from chat_svc.config import Settings
from chat_svc.domain.closing import CLOSE_POLICY
from chat_svc.domain.errors import FrameTooLarge, InvalidFrame
from chat_svc.domain.frames import error_frame
from chat_svc.domain.model import Author
from chat_svc.entrypoints.schemas import CLIENT_FRAME, EndFrame, MessageFrame, ResumeFrame, TypingFrame
from chat_svc.handlers import Handlers
from chat_svc.handlers.live import LiveChat, Participant
from servicekit.auth import WS_SUBPROTOCOL, Authenticator, bearer_token
from servicekit.errors import DomainError, Unauthorized
from servicekit.logging import get_logger

log = get_logger(__name__)


async def refuse(websocket: WebSocket, error: DomainError) -> None:
    await websocket.send_json(error_frame(error.code, error.message))
    # A close reason is limited to 123 bytes by the protocol.
    await websocket.close(code=CLOSE_POLICY, reason=f"{error.code}: {error.message}"[:120])


def ws_router(auth: Authenticator, handlers: Handlers, settings: Settings) -> APIRouter:
    router = APIRouter()
    live, hub = handlers.live, handlers.sockets

    @router.websocket("/ws/{session_id}")
    async def chat_socket(websocket: WebSocket, session_id: str) -> None:
        # Accept first: only an open socket can say why it is being refused. The chosen
        # subprotocol is echoed only when the client offered it (browsers require that).
        offered = websocket.scope.get("subprotocols", [])
        await websocket.accept(subprotocol=WS_SUBPROTOCOL if WS_SUBPROTOCOL in offered else None)
        try:
            if "token" in websocket.query_params:
                raise Unauthorized(
                    "a token in the URL is refused: send it as the subprotocol 'bearer.<token>' next to 'assistline'",
                    code="token_in_url",
                )
            principal = auth.principal(websocket)
            # A technician's first join here is authorized by the write that records it.
            deferred = live.defers(principal, session_id)
            session, author = (None, Author.TECHNICIAN) if deferred else await live.authorize(principal, session_id)
            key = token_key(bearer_token(websocket) or "")
            await hub.reserve_socket(key)
        except DomainError as error:
            await refuse(websocket, error)
            return
        connection = Connection(
            websocket,
            session_id,
            author,
            key,
            settings.socket_send_queue,
            person_id=principal.subject,
            account_id=session.account_id if session else principal.account_id,
            company_id=session.company_id if session else "",
        )
        attached = False
        participant: Participant | None = None
        try:
            if session is None:
                try:
                    participant, attached = await live.arrive(
                        connection, principal, websocket.query_params.get("after")
                    )
                except DomainError as error:
                    await refuse(websocket, error)
                    return
            else:
                participant = live.participant(connection, principal, session)
            connection.start()
            try:
                if not attached:
                    await live.attach(participant, websocket.query_params.get("after"))
            except DomainError as error:
                connection.send(error_frame(error.code, error.message))
                connection.close(CLOSE_POLICY, f"{error.code}: {error.message}"[:120])
            await _read(websocket, live, participant, settings)
        finally:
            await hub.release_socket(key)
            if participant is not None:
                await live.detach(participant)
            await connection.stop()
            hub.forget(session_id)

    return router


async def _read(websocket: WebSocket, live: LiveChat, participant: Participant, settings: Settings) -> None:
    while True:
        incoming = await websocket.receive()
        if incoming["type"] == "websocket.disconnect":
            return
        try:
            await _dispatch(live, participant, _parse(incoming, settings.max_frame_bytes))
        except DomainError as error:
            participant.connection.send(error_frame(error.code, error.message))


def _parse(incoming: Any, max_bytes: int) -> Any:
    text = incoming.get("text")
    if text is None:
        raise InvalidFrame("frames are JSON text, not binary")
    if len(text.encode()) > max_bytes:
        raise FrameTooLarge(f"a frame is at most {max_bytes} bytes")
    try:
        return CLIENT_FRAME.validate_python(json.loads(text))
    except json.JSONDecodeError as error:
        raise InvalidFrame(f"not JSON: {error.msg}") from error
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'frame'}: {e['msg']}" for e in error.errors())
        raise InvalidFrame(f"{problems} (expected type message, typing, resume or end)") from error


async def _dispatch(live: LiveChat, participant: Participant, frame: Any) -> None:
    match frame:
        case MessageFrame(text=text, client_id=client_id):
            await live.send_message(participant, text, client_id)
        case TypingFrame():
            await live.typing(participant)
        case ResumeFrame(after=after):
            await live.resume(participant, after)
        case EndFrame(outcome=outcome, notes=notes):
            await live.end(participant, outcome, notes)
