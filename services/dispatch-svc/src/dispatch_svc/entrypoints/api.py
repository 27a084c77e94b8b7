"""HTTP surface for technicians: their requests, accepting one, connection codes."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, Field

from contracts.vocabulary import ConnectionMode, PortalType
from dispatch_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role

IdParam = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class GuestView(BaseModel):
    technician_id: str = Field(description="A colleague invited into the chat who joined it.")
    name: str = Field(description="Their name.")


class RequestView(BaseModel):
    request_id: str = Field(description="Request id.")
    company_id: str = Field(description="Company whose portal received it.")
    mode: ConnectionMode = Field(description="Connection mode.")
    portal_type: PortalType = Field(description="Portal type.")
    state: str = Field(description="offered (open to you) or assigned (yours).")
    customer_name: str = Field(description="Customer's name.")
    description: str = Field(description="The problem, in the customer's words.")
    submitted_at: datetime = Field(description="When the customer submitted it.")
    offer_expires_at: datetime | None = Field(default=None, description="When an open offer lapses.")
    acknowledged: bool | None = Field(default=None, description="Queue mode: whether you acknowledged it.")
    accept_by: datetime | None = Field(default=None, description="Queue mode: acknowledge before this.")
    handover_note: str = Field(default="", description="Sent back by a colleague: their note for you.")
    guest: bool = Field(
        default=False, description="You joined this chat as an invited colleague (it is another technician's)."
    )
    guests: list[GuestView] = Field(default_factory=list, description="Colleagues invited into the chat who joined.")

    @classmethod
    def of(cls, request: dict[str, Any], viewer: str | None = None) -> "RequestView":
        guests = [
            GuestView(technician_id=g["technician_id"], name=g.get("name", "")) for g in request.get("guests", [])
        ]
        return cls(
            request_id=request["_id"],
            company_id=request["company_id"],
            mode=request["mode"],
            portal_type=request["portal_type"],
            state=request["state"],
            customer_name=request["customer_name"],
            description=request.get("description", ""),
            submitted_at=request["submitted_at"],
            offer_expires_at=request.get("offer_expires_at") if request["state"] == "offered" else None,
            acknowledged=request.get("acknowledged") if request["state"] == "assigned" else None,
            accept_by=request.get("ack_deadline"),
            handover_note=request.get("handover_note", ""),
            guest=viewer is not None and any(g.technician_id == viewer for g in guests),
            guests=guests,
        )


class RequestList(BaseModel):
    requests: list[RequestView] = Field(
        description="Your open offers, your assignments and the chats you joined as a guest, oldest first."
    )


class NewCode(BaseModel):
    company_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Company the caller belongs to."
    )


class CodeView(BaseModel):
    code_id: str = Field(description="Id of the code (used to revoke it).")
    code: str = Field(description="The 9 digits to read out to the customer.")
    company_id: str = Field(description="Company whose portal accepts it.")
    expires_at: datetime = Field(description="When it stops working.")

    @classmethod
    def of(cls, document: dict[str, Any]) -> "CodeView":
        return cls(
            code_id=document["_id"],
            code=document["code"],
            company_id=document["company_id"],
            expires_at=document["expires_at"],
        )


class CodeList(BaseModel):
    codes: list[CodeView] = Field(description="Your live codes, the one expiring first first.")
    company_ids: list[str] = Field(
        default_factory=list, description="Companies you can issue codes for (you serve them; their portal is Phone)."
    )


def api_router(handlers: Handlers, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["dispatch"])
    Technician = Annotated[Principal, Depends(auth.require(Role.TECHNICIAN))]

    @router.get("/requests", summary="Your open offers, assignments and the chats you joined")
    async def list_requests(principal: Technician) -> RequestList:
        found = await handlers.inbox.requests_of(principal)
        return RequestList(requests=[RequestView.of(r, principal.subject) for r in found])

    @router.post(
        "/requests/{request_id}/accept",
        summary="Accept an offered request (Web) or acknowledge an assignment (Queue)",
        responses={
            403: {"description": "Not your company"},
            404: {"description": "No such request"},
            409: {"description": "Taken by someone else, closed, or you are at capacity"},
        },
    )
    async def accept(request_id: IdParam, principal: Technician) -> RequestView:
        return RequestView.of(await handlers.inbox.accept(principal, request_id))

    @router.post("/codes", status_code=status.HTTP_201_CREATED, summary="Generate a connection code")
    async def create_code(body: NewCode, principal: Technician) -> CodeView:
        return CodeView.of(await handlers.codes.issue(principal, body.company_id))

    @router.get("/codes", summary="Your live connection codes")
    async def list_codes(principal: Technician) -> CodeList:
        return CodeList(
            codes=[CodeView.of(c) for c in await handlers.codes.live_of(principal)],
            company_ids=await handlers.codes.code_companies(principal),
        )

    @router.delete("/codes/{code_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a code")
    async def revoke_code(code_id: IdParam, principal: Technician) -> None:
        await handlers.codes.revoke(principal, code_id)

    return router
