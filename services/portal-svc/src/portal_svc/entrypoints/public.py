"""Customer-facing API under /api/portal: portal view, submission, status, cancel."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse

from portal_svc.adapters.ratelimit import client_address
from portal_svc.domain.commands import LeaveMessage, SubmitRequest
from portal_svc.domain.forms import InvalidFields
from portal_svc.entrypoints.schemas import MessageLeftOut, PublicPortalOut, RequestStatusOut, SubmittedOut
from portal_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role

SubdomainPath = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9-]+$")]
RequestPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _documented(model: type) -> dict:
    """The body is validated by the handler (every field error at once, `domain.forms`);
    OpenAPI still documents it as the model."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},  # type: ignore[attr-defined]
        }
    }


# Any JSON value: the handler says, field by field, what is wrong with it.
RawBody = Annotated[object, Body(include_in_schema=False)]


def invalid_fields(error: InvalidFields) -> JSONResponse:
    """422 in the shape of every validation error, listing each field's problem."""
    fields = [{"field": e.field, "message": e.message, "type": e.type} for e in error.errors]
    body = {"error": error.code, "message": error.message, "fields": fields}
    return JSONResponse(body, status_code=422)


def public_router(handlers: Handlers, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["customer"])
    Customer = Annotated[Principal, Depends(auth.require(Role.CUSTOMER))]

    async def rate_limited(request: Request) -> None:
        # A dependency runs before the body is validated: malformed floods count too.
        await handlers.submissions.hit(client_address(request))

    @router.get("/public/portals/{subdomain}", response_model=PublicPortalOut, summary="What the customer sees")
    async def portal(subdomain: SubdomainPath):
        return await handlers.customers.show(subdomain)

    @router.post(
        "/public/portals/{subdomain}/requests",
        status_code=201,
        response_model=SubmittedOut,
        summary="Submit a support request",
        dependencies=[Depends(rate_limited)],
        openapi_extra=_documented(SubmitRequest),
    )
    async def submit(subdomain: SubdomainPath, body: RawBody):
        try:
            return await handlers.customers.submit(subdomain, body)
        except InvalidFields as error:
            return invalid_fields(error)

    @router.post(
        "/public/portals/{subdomain}/messages",
        status_code=201,
        response_model=MessageLeftOut,
        summary="Leave a message (closed, nobody available, or tired of waiting); answered by e-mail",
        dependencies=[Depends(rate_limited)],
        openapi_extra=_documented(LeaveMessage),
    )
    async def leave_message(subdomain: SubdomainPath, body: RawBody):
        try:
            return await handlers.messages.leave(subdomain, body)
        except InvalidFields as error:
            return invalid_fields(error)

    @router.get("/requests/{request_id}", response_model=RequestStatusOut, summary="Status of your request")
    async def status(request_id: RequestPath, customer: Customer):
        return await handlers.customers.status(customer, request_id)

    @router.post("/requests/{request_id}/cancel", response_model=RequestStatusOut, summary="Cancel your request")
    async def cancel(request_id: RequestPath, customer: Customer):
        return await handlers.customers.cancel(customer, request_id)

    return router
