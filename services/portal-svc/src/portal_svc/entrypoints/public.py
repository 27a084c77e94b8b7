"""Customer-facing API under /api/portal: portal view, submission, status, cancel."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from portal_svc.adapters.ratelimit import client_address
from portal_svc.domain.commands import SubmitRequest
from portal_svc.entrypoints.schemas import PublicPortalOut, RequestStatusOut, SubmittedOut
from portal_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role

SubdomainPath = Annotated[str, Path(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9-]+$")]
RequestPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


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
    )
    async def submit(subdomain: SubdomainPath, body: SubmitRequest):
        return await handlers.customers.submit(subdomain, body)

    @router.get("/requests/{request_id}", response_model=RequestStatusOut, summary="Status of your request")
    async def status(request_id: RequestPath, customer: Customer):
        return await handlers.customers.status(customer, request_id)

    @router.post("/requests/{request_id}/cancel", response_model=RequestStatusOut, summary="Cancel your request")
    async def cancel(request_id: RequestPath, customer: Customer):
        return await handlers.customers.cancel(customer, request_id)

    return router
