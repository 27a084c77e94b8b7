"""HTTP surface: listing and reading sessions, transcripts, ending a session."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from chat_svc.domain.model import SessionState
from chat_svc.entrypoints.schemas import EndRequest, MessageOut, SessionDetail, SessionList, SessionOut
from chat_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role

# Cancelled sessions are markers of requests cancelled before any chat: never listed.
ListedState = Literal["active", "completed"]


def api_router(auth: Authenticator, handlers: Handlers) -> APIRouter:
    router = APIRouter(prefix="/sessions", tags=["sessions"])
    reading = handlers.reading

    def current(request: Request) -> Principal:
        return auth.principal(request)

    Caller = Annotated[Principal, Depends(current)]
    Technician = Annotated[Principal, Depends(auth.require(Role.TECHNICIAN))]

    @router.get("", summary="Sessions of your companies (technician) or account (admin)")
    async def list_sessions(
        principal: Caller,
        state: Annotated[ListedState | None, Query(description="active or completed")] = None,
        company_id: Annotated[str | None, Query(max_length=64, description="Only this company")] = None,
        limit: Annotated[int, Query(ge=1, le=200, description="At most this many, newest first")] = 50,
    ) -> SessionList:
        sessions = await reading.list(
            principal, state=SessionState(state) if state else None, company_id=company_id, limit=limit
        )
        return SessionList(sessions=[SessionOut.of(s, with_notes=True) for s in sessions])

    @router.get("/{session_id}", summary="One session with its messages")
    async def get_session(session_id: str, principal: Caller) -> SessionDetail:
        session, messages = await reading.one(principal, session_id)
        return SessionDetail(
            session=SessionOut.of(session, with_notes=principal.role is not Role.CUSTOMER),
            messages=[MessageOut.of(m) for m in messages],
        )

    @router.get(
        "/{session_id}/transcript",
        summary="Plain-text transcript, as a download",
        response_class=PlainTextResponse,
    )
    async def transcript(session_id: str, principal: Caller) -> PlainTextResponse:
        session, text = await reading.transcript(principal, session_id)
        return PlainTextResponse(
            text,
            headers={
                "Content-Disposition": f'attachment; filename="chat-{session.session_id}.txt"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.post("/{session_id}/end", summary="End the session (the assigned technician)")
    async def end_session(session_id: str, body: EndRequest, principal: Technician) -> SessionOut:
        ended = await handlers.live.end_as_technician(principal, session_id, body.outcome, body.notes)
        return SessionOut.of(ended, with_notes=True)

    return router
