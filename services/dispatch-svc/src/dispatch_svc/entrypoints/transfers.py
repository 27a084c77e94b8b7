"""HTTP surface of transfers: the colleagues a chat can go to, offering it, answering an offer."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from dispatch_svc.domain.transfer import NOTE_MAX_CHARS, name_of
from dispatch_svc.entrypoints.api import IdParam, RequestView
from dispatch_svc.entrypoints.invitations import InvitationView
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


class TransferRequest(BaseModel):
    to_technician_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The colleague to hand the chat to."
    )
    note: str = Field(default="", max_length=NOTE_MAX_CHARS, description="What the colleague should know.")


class ReturnRequest(BaseModel):
    note: str = Field(default="", max_length=NOTE_MAX_CHARS, description="What the next technician should know.")


class TransferView(BaseModel):
    request_id: str = Field(description="Request id.")
    session_id: str = Field(description="Its chat session.")
    company_id: str = Field(description="Company.")
    customer_name: str = Field(description="Customer's name.")
    description: str = Field(description="The problem, in the customer's words.")
    from_technician_id: str = Field(description="Who has the chat.")
    from_name: str = Field(description="Their name.")
    to_technician_id: str = Field(description="Who is asked to take it.")
    to_name: str = Field(description="Their name.")
    note: str = Field(description="The handover note.")
    expires_at: datetime = Field(description="When the offer lapses.")

    @classmethod
    def of(cls, request: dict[str, Any]) -> "TransferView":
        transfer = request["transfer"]
        return cls(
            request_id=request["_id"],
            session_id=f"cht_{request['_id']}",
            company_id=request["company_id"],
            customer_name=request["customer_name"],
            description=request.get("description", ""),
            from_technician_id=transfer["from"],
            from_name=transfer.get("from_name", ""),
            to_technician_id=transfer["to"],
            to_name=transfer.get("to_name", ""),
            note=transfer.get("note", ""),
            expires_at=transfer["expires_at"],
        )


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
