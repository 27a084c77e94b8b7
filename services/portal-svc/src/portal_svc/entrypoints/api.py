"""HTTP API under /api/portal: sign-in, accounts, companies, technicians, portals, embed code."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from contracts.vocabulary import PortalStatus
from servicekit.auth import Principal, Role

from portal_svc.adapters.ratelimit import client_address
from portal_svc.domain.commands import (
    CreateAccount,
    CreateCompany,
    CreatePortal,
    CreateTechnician,
    Login,
    UpdatePortal,
    UpdateTechnician,
)
from portal_svc.entrypoints.schemas import AccountOut, CompanyOut, EmbedOut, PortalOut, TechnicianOut, TokenOut
from portal_svc.handlers import portals, staff
from portal_svc.handlers.context import Context

RefPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def staff_router(ctx: Context) -> APIRouter:
    router = APIRouter()
    Admin = Annotated[Principal, Depends(ctx.runtime.auth.require(Role.ADMIN))]
    Staff = Annotated[Principal, Depends(ctx.runtime.auth.require(Role.ADMIN, Role.TECHNICIAN))]

    @router.post("/auth/login", response_model=TokenOut, tags=["auth"], summary="Sign in (admin or technician)")
    async def login(body: Login, request: Request):
        return await staff.login(ctx, body, client_address(request))

    @router.get("/auth/me", tags=["auth"], summary="Who the token belongs to")
    async def me(principal: Staff) -> Principal:
        return principal

    @router.post("/accounts", status_code=201, response_model=AccountOut, tags=["accounts"], summary="Sign up")
    async def create_account(body: CreateAccount, request: Request):
        return await staff.create_account(ctx, body, client_address(request))

    @router.post("/companies", status_code=201, response_model=CompanyOut, tags=["companies"])
    async def create_company(body: CreateCompany, admin: Admin):
        return await staff.create_company(ctx, admin, body)

    @router.get(
        "/companies",
        response_model=list[CompanyOut],
        tags=["companies"],
        summary="The account's companies (admin) or the companies you can access (technician)",
    )
    async def list_companies(principal: Staff):
        return await staff.list_companies(ctx, principal)

    @router.post("/technicians", status_code=201, response_model=TechnicianOut, tags=["technicians"])
    async def create_technician(body: CreateTechnician, admin: Admin):
        return await staff.create_technician(ctx, admin, body)

    @router.get("/technicians", response_model=list[TechnicianOut], tags=["technicians"])
    async def list_technicians(admin: Admin):
        return await staff.list_technicians(ctx, admin)

    @router.patch("/technicians/{technician_id}", response_model=TechnicianOut, tags=["technicians"])
    async def update_technician(technician_id: RefPath, body: UpdateTechnician, admin: Admin):
        return await staff.update_technician(ctx, admin, technician_id, body)

    @router.delete("/technicians/{technician_id}", response_model=TechnicianOut, tags=["technicians"])
    async def remove_technician(technician_id: RefPath, admin: Admin):
        return await staff.remove_technician(ctx, admin, technician_id)

    @router.post("/portals", status_code=201, response_model=PortalOut, tags=["portals"])
    async def create_portal(body: CreatePortal, admin: Admin):
        return await portals.create_portal(ctx, admin, body)

    @router.get("/portals", response_model=list[PortalOut], tags=["portals"])
    async def list_portals(admin: Admin):
        return await portals.list_portals(ctx, admin)

    @router.get("/portals/{portal_id}", response_model=PortalOut, tags=["portals"])
    async def get_portal(portal_id: RefPath, admin: Admin):
        return await portals.get_portal(ctx, admin, portal_id)

    @router.patch("/portals/{portal_id}", response_model=PortalOut, tags=["portals"])
    async def update_portal(portal_id: RefPath, body: UpdatePortal, admin: Admin):
        return await portals.update_portal(ctx, admin, portal_id, body)

    @router.post("/portals/{portal_id}/deactivate", response_model=PortalOut, tags=["portals"])
    async def deactivate_portal(portal_id: RefPath, admin: Admin):
        return await portals.set_portal_status(ctx, admin, portal_id, PortalStatus.INACTIVE)

    @router.post("/portals/{portal_id}/activate", response_model=PortalOut, tags=["portals"])
    async def activate_portal(portal_id: RefPath, admin: Admin):
        return await portals.set_portal_status(ctx, admin, portal_id, PortalStatus.ACTIVE)

    @router.get("/portals/{portal_id}/embed", response_model=EmbedOut, tags=["portals"], summary="URLs and code")
    async def embed(portal_id: RefPath, admin: Admin):
        return await portals.portal_embed_code(ctx, admin, portal_id)

    return router
