"""HTTP surface of invitations: inviting a colleague to join your chat, answering an
invitation, leaving a chat you joined. (Open invitations are listed by `GET /transfers`,
with the transfers: one read when a help center (re)connects.)"""

from datetime import datetime
from typing import Annotated, Any, ClassVar, Self

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from dispatch_svc.domain.transfer import NOTE_MAX_CHARS
from dispatch_svc.entrypoints.api import IdParam, RequestView
from dispatch_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role

REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not your company"},
    404: {"description": "No such request"},
    409: {"description": "Not your chat, the colleague cannot join, the chat is full, or a hand-over is pending"},
}


class HandOverRequest(BaseModel):
    to_technician_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The colleague to ask."
    )
    note: str = Field(default="", max_length=NOTE_MAX_CHARS, description="What the colleague should know.")


class InviteRequest(HandOverRequest):
    """Invite `to_technician_id` into your chat."""


class HandOverView(BaseModel):
    """A transfer or invitation still open, as a help center lists it."""

    kept_as: ClassVar[str]
    """Where the request keeps it: `transfer` or `invitation`."""

    request_id: str = Field(description="Request id.")
    session_id: str = Field(description="Its chat session.")
    company_id: str = Field(description="Company.")
    customer_name: str = Field(description="Customer's name.")
    description: str = Field(description="The problem, in the customer's words.")
    from_technician_id: str = Field(description="Whose chat it is (who asks).")
    from_name: str = Field(description="Their name.")
    to_technician_id: str = Field(description="Who is asked.")
    to_name: str = Field(description="Their name.")
    note: str = Field(description="The note for the colleague.")
    expires_at: datetime = Field(description="When it lapses.")

    @classmethod
    def of(cls, request: dict[str, Any]) -> Self:
        asked = request[cls.kept_as]
        return cls(
            request_id=request["_id"],
            session_id=f"cht_{request['_id']}",
            company_id=request["company_id"],
            customer_name=request["customer_name"],
            description=request.get("description", ""),
            from_technician_id=asked["from"],
            from_name=asked.get("from_name", ""),
            to_technician_id=asked["to"],
            to_name=asked.get("to_name", ""),
            note=asked.get("note", ""),
            expires_at=asked["expires_at"],
        )


class InvitationView(HandOverView):
    """An invitation to join a colleague's chat."""

    kept_as = "invitation"


def invitation_router(handlers: Handlers, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["invitations"])
    Technician = Annotated[Principal, Depends(auth.require(Role.TECHNICIAN))]

    @router.post("/requests/{request_id}/invite", summary="Invite a colleague to join your chat", responses=REFUSALS)
    async def invite(request_id: IdParam, body: InviteRequest, principal: Technician) -> InvitationView:
        done = await handlers.invitations.invite(principal, request_id, body.to_technician_id, body.note)
        return InvitationView.of(done)

    @router.post(
        "/requests/{request_id}/invite/accept", summary="Join a chat a colleague invited you to", responses=REFUSALS
    )
    async def accept(request_id: IdParam, principal: Technician) -> RequestView:
        return RequestView.of(await handlers.invitations.accept(principal, request_id), principal.subject)

    @router.post("/requests/{request_id}/invite/decline", summary="Decline an invitation to a chat", responses=REFUSALS)
    async def decline(request_id: IdParam, principal: Technician) -> None:
        await handlers.invitations.decline(principal, request_id)

    @router.post(
        "/requests/{request_id}/leave",
        summary="Leave a chat you joined as an invited colleague",
        responses={409: {"description": "You are not a guest of this chat"}},
    )
    async def leave(request_id: IdParam, principal: Technician) -> RequestView:
        return RequestView.of(await handlers.invitations.leave(principal, request_id), principal.subject)

    return router
