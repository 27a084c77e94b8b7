"""HTTP surface: an admin manages the webhook endpoints of their own account."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from servicekit.auth import Authenticator, Principal, Role
from webhook_svc.domain.model import EVENT_TYPES, Endpoint
from webhook_svc.entrypoints.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointPatch,
    EventTypes,
    SecretRotated,
)
from webhook_svc.handlers import Handlers
from webhook_svc.handlers.endpoints import Change


def api_router(auth: Authenticator, handlers: Handlers) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    admin = handlers.admin
    Admin = Annotated[Principal, Depends(auth.require(Role.ADMIN))]

    def out(endpoint: Endpoint) -> EndpointOut:
        return EndpointOut.of(endpoint, datetime.now(UTC))

    @router.get("/event-types", summary="Event types an endpoint can subscribe to")
    async def event_types(_: Admin) -> EventTypes:
        return EventTypes(event_types=list(EVENT_TYPES))

    @router.post("/endpoints", status_code=201, summary="Register an endpoint (its secret is returned once)")
    async def create(body: EndpointIn, principal: Admin) -> EndpointCreated:
        endpoint, secret = await admin.create(
            principal,
            url=body.url,
            event_types=body.event_types,
            description=body.description,
            enabled=body.enabled,
        )
        return EndpointCreated(endpoint=out(endpoint), secret=secret)

    @router.get("/endpoints", summary="Your account's endpoints")
    async def list_endpoints(principal: Admin) -> EndpointList:
        return EndpointList(endpoints=[out(e) for e in await admin.all(principal)])

    @router.get("/endpoints/{endpoint_id}", summary="One endpoint")
    async def get_endpoint(endpoint_id: str, principal: Admin) -> EndpointOut:
        return out(await admin.get(principal, endpoint_id))

    @router.patch("/endpoints/{endpoint_id}", summary="Change an endpoint (URL, event types, description, enabled)")
    async def update(endpoint_id: str, body: EndpointPatch, principal: Admin) -> EndpointOut:
        change = Change(url=body.url, event_types=body.event_types, description=body.description, enabled=body.enabled)
        return out(await admin.update(principal, endpoint_id, change))

    @router.delete("/endpoints/{endpoint_id}", status_code=204, summary="Delete an endpoint and its delivery log")
    async def delete(endpoint_id: str, principal: Admin) -> Response:
        await admin.delete(principal, endpoint_id)
        return Response(status_code=204)

    @router.post("/endpoints/{endpoint_id}/rotate-secret", summary="New secret; the old one still signs for a while")
    async def rotate(endpoint_id: str, principal: Admin) -> SecretRotated:
        endpoint, secret, until = await admin.rotate_secret(principal, endpoint_id)
        return SecretRotated(endpoint=out(endpoint), secret=secret, previous_valid_until=until)

    @router.get("/endpoints/{endpoint_id}/deliveries", summary="Delivery log of an endpoint, newest first")
    async def deliveries(
        endpoint_id: str,
        principal: Admin,
        limit: Annotated[int, Query(ge=1, le=200, description="Page size")] = 50,
        offset: Annotated[int, Query(ge=0, le=100_000, description="Skip this many")] = 0,
    ) -> DeliveryPage:
        page = await admin.deliveries_of(principal, endpoint_id, limit=limit, offset=offset)
        return DeliveryPage(
            deliveries=[DeliveryOut.of(d) for d in page],
            next_offset=offset + limit if len(page) == limit else None,
        )

    @router.post(
        "/endpoints/{endpoint_id}/deliveries/{delivery_id}/resend",
        status_code=202,
        summary="Send a delivery again (same body and webhook-id)",
    )
    async def resend(endpoint_id: str, delivery_id: str, principal: Admin) -> DeliveryOut:
        return DeliveryOut.of(await admin.send_again(principal, endpoint_id, delivery_id))

    return router
