"""HTTP surface of transfers: the colleagues a chat can go to, offering it, answering an offer."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from dispatch_svc.domain.transfer import NOTE_MAX_CHARS, name_of
from dispatch_svc.entrypoints.api import IdParam, RequestView
from dispatch_svc.entrypoints.invitations import HandOverRequest, HandOverView, InvitationView
from dispatch_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role

REFUSALS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not your company"},
    404: {"description": "No such request"},
    409: {"description": "Not your chat, the colleague cannot take it, or a transfer is already pending"},
}


class ColleagueView(BaseModel):
    technician_id: str = Field(description="Technician id.")
    display_name: str = Field(description="Their name.")
    free_slots: int = Field(description="Chats they can still take.")


class ColleagueList(BaseModel):
    colleagues: list[ColleagueView] = Field(description="Available technicians of the company with a free slot.")


class TransferRequest(HandOverRequest):
    """Hand your chat to `to_technician_id`."""


class ReturnRequest(BaseModel):
    note: str = Field(default="", max_length=NOTE_MAX_CHARS, description="What the next technician should know.")


class TransferView(HandOverView):
    """A chat a colleague asked you to take over."""

    kept_as = "transfer"


class TransferList(BaseModel):
    transfers: list[TransferView] = Field(description="Chats colleagues asked you to take, still open.")
    invitations: list[InvitationView] = Field(
        default_factory=list, description="Chats colleagues invited you to join, still open."
    )


def transfer_router(handlers: Handlers, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["transfers"])
    Technician = Annotated[Principal, Depends(auth.require(Role.TECHNICIAN))]

    @router.get("/requests/{request_id}/colleagues", summary="Who your chat can be transferred to", responses=REFUSALS)
    async def colleagues(request_id: IdParam, principal: Technician) -> ColleagueList:
        found = await handlers.transfers.colleagues(principal, request_id)
        return ColleagueList(
            colleagues=[
                ColleagueView(
                    technician_id=t["_id"],
                    display_name=name_of(t, t["_id"]),
                    free_slots=t.get("capacity", 0) - len(t.get("active", [])),
                )
                for t in found
            ]
        )

    @router.post("/requests/{request_id}/transfer", summary="Offer your chat to a colleague", responses=REFUSALS)
    async def offer(request_id: IdParam, body: TransferRequest, principal: Technician) -> TransferView:
        return TransferView.of(await handlers.transfers.offer(principal, request_id, body.to_technician_id, body.note))

    @router.get("/transfers", summary="Chats colleagues asked you to take or to join")
    async def incoming(principal: Technician) -> TransferList:
        return TransferList(
            transfers=[TransferView.of(r) for r in await handlers.transfers.incoming(principal)],
            invitations=[InvitationView.of(r) for r in await handlers.invitations.incoming(principal)],
        )

    @router.post(
        "/requests/{request_id}/transfer/accept", summary="Take over a chat offered to you", responses=REFUSALS
    )
    async def accept(request_id: IdParam, principal: Technician) -> RequestView:
        return RequestView.of(await handlers.transfers.accept(principal, request_id))

    @router.post("/requests/{request_id}/transfer/decline", summary="Decline a chat offered to you", responses=REFUSALS)
    async def decline(request_id: IdParam, principal: Technician) -> None:
        await handlers.transfers.decline(principal, request_id)

    @router.post(
        "/requests/{request_id}/return",
        summary="Send your chat back to the company's queue (Queue) or to its other technicians (Web)",
        responses=REFUSALS,
    )
    async def return_to_line(request_id: IdParam, body: ReturnRequest, principal: Technician) -> RequestView:
        return RequestView.of(await handlers.transfers.return_to_line(principal, request_id, body.note))

    return router
