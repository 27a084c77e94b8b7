"""HTTP surface: listing and reading sessions, transcripts, ending a session."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import PlainTextResponse

from chat_svc.domain.model import SessionState
from chat_svc.entrypoints.schemas import (
    EndRequest,
    MessageOut,
    RatingIn,
    RatingOut,
    SessionDetail,
    SessionList,
    SessionOut,
)
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
        rated = await handlers.ratings.of(sessions)
        names = await handlers.companies.of(sessions)
        return SessionList(
            sessions=[
                SessionOut.of(
                    s, with_notes=True, rating=rated.get(s.session_id), company_name=names.get(s.company_id, "")
                )
                for s in sessions
            ]
        )

    @router.get("/{session_id}", summary="One session with its messages")
    async def get_session(session_id: str, principal: Caller) -> SessionDetail:
        session, messages = await reading.one(principal, session_id)
        rating = None if session.is_active else await handlers.ratings.get(session_id)
        name = (await handlers.companies.of([session])).get(session.company_id, "")
        return SessionDetail(
            session=SessionOut.of(
                session, with_notes=principal.role is not Role.CUSTOMER, rating=rating, company_name=name
            ),
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

    @router.post(
        "/{session_id}/wrap-up",
        summary="Record the outcome and notes of an ended session (the technician it was assigned to)",
    )
    async def wrap_up(session_id: str, body: EndRequest, principal: Technician) -> SessionOut:
        wrapped = await handlers.live.wrap_up(principal, session_id, body.outcome, body.notes)
        return SessionOut.of(wrapped, with_notes=True)

    @router.post(
        "/{session_id}/rating",
        summary="Rate an ended chat, 1 to 5 with an optional comment (its customer, once)",
        status_code=status.HTTP_201_CREATED,
    )
    async def rate(session_id: str, body: RatingIn, principal: Caller) -> RatingOut:
        return RatingOut.of(await handlers.ratings.rate(principal, session_id, body.score, body.comment))

    return router
