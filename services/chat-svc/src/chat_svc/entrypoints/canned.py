"""HTTP routes of canned replies (under /api/chat/canned-replies)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from chat_svc.domain.canned import MAX_TEXT, MAX_TITLE, VARIABLES, Scope
from chat_svc.handlers.canned import CannedReplies
from servicekit.auth import Authenticator, Principal, Role

ReplyId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="The reply.")]


class CannedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=MAX_TITLE, description="Shown in the picker.", examples=["Thanks"])
    shortcut: str = Field(
        max_length=40, description="Typed in the chat box, e.g. `/thanks`; unique in its scope.", examples=["/thanks"]
    )
    text: str = Field(
        max_length=MAX_TEXT,
        description="The reply; may use " + ", ".join("{" + v + "}" for v in VARIABLES) + ".",
        examples=["Thanks {customer_name}, I am on it."],
    )


class NewCannedReplyIn(CannedReplyIn):
    scope: Scope = Field(description="`account` (admins) or `personal` (the technician's own).")


class CannedReplyOut(BaseModel):
    reply_id: str = Field(description="The reply.")
    scope: Scope = Field(description="`account` or `personal`.")
    title: str = Field(description="Shown in the picker.")
    shortcut: str = Field(description="`/shortcut`, unique in its scope.")
    text: str = Field(description="The text with its `{variables}` unfilled.")


class CannedRepliesOut(BaseModel):
    account: list[CannedReplyOut] = Field(description="The account's replies, by shortcut.")
    personal: list[CannedReplyOut] = Field(description="Your own replies (technicians), by shortcut.")
    variables: list[str] = Field(description="Variables a text may use, filled in when inserted.")


def canned_router(auth: Authenticator, canned: CannedReplies) -> APIRouter:
    router = APIRouter(prefix="/canned-replies", tags=["canned replies"])
    Staff = Annotated[Principal, Depends(auth.require(Role.ADMIN, Role.TECHNICIAN))]

    @router.get("", summary="The account's and your own canned replies", response_model=CannedRepliesOut)
    async def list_replies(principal: Staff) -> dict[str, object]:
        found = await canned.all_of(principal)
        return {
            "account": [r.as_dict() for r in found["account"]],
            "personal": [r.as_dict() for r in found["personal"]],
            "variables": list(VARIABLES),
        }

    @router.post("", summary="Add a canned reply", response_model=CannedReplyOut, status_code=status.HTTP_201_CREATED)
    async def create(body: NewCannedReplyIn, principal: Staff) -> dict[str, object]:
        reply = await canned.create(principal, body.scope, body.title, body.shortcut, body.text)
        return reply.as_dict()

    @router.put("/{scope}/{reply_id}", summary="Change a canned reply", response_model=CannedReplyOut)
    async def change(scope: Scope, reply_id: ReplyId, body: CannedReplyIn, principal: Staff) -> dict[str, object]:
        reply = await canned.change(principal, scope, reply_id, body.title, body.shortcut, body.text)
        return reply.as_dict()

    @router.delete("/{scope}/{reply_id}", summary="Delete a canned reply", status_code=status.HTTP_204_NO_CONTENT)
    async def delete(scope: Scope, reply_id: ReplyId, principal: Staff) -> Response:
        await canned.delete(principal, scope, reply_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router
