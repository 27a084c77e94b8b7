"""HTTP API under /api/portal: sign-in, accounts, companies, technicians, portals, embed code."""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request

from contracts.vocabulary import PortalStatus
from portal_svc.adapters.ratelimit import client_address
from portal_svc.domain.commands import (
    AnswerMessage,
    CreateAccount,
    CreateCompany,
    CreatePortal,
    CreateTechnician,
    Login,
    Refresh,
    RenameCompany,
    UpdatePortal,
    UpdateTechnician,
)
from portal_svc.domain.forms import InvalidFields
from portal_svc.domain.paging import MAX_PER_PAGE, Page
from portal_svc.entrypoints.public import invalid_fields
from portal_svc.entrypoints.schemas import (
    AccountOut,
    CompanyOut,
    CompanyPage,
    CustomerPanelOut,
    DeletedCompanyOut,
    EmbedOut,
    MessagesOut,
    OfflineMessageOut,
    PortalOut,
    TechnicianOut,
    TechnicianPage,
    TokenOut,
)
from portal_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role

RefPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
SearchText = Annotated[str, Query(max_length=100, description="Only those whose name (or e-mail) contains this")]
PageNumber = Annotated[int, Query(ge=1, le=10_000, description="Page, from 1")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="Items per page")]


def staff_router(handlers: Handlers, auth: Authenticator) -> APIRouter:
    router = APIRouter()
    Admin = Annotated[Principal, Depends(auth.require(Role.ADMIN))]
    staff_token = auth.require(Role.ADMIN, Role.TECHNICIAN)

    async def current_staff(principal: Annotated[Principal, Depends(staff_token)]) -> Principal:
        # Routes that depend on a technician's companies read them from the record, now.
        return await handlers.auth.current(principal)

    CurrentStaff = Annotated[Principal, Depends(current_staff)]

    @router.post("/auth/login", response_model=TokenOut, tags=["auth"], summary="Sign in (admin or technician)")
    async def login(body: Login, request: Request):
        return await handlers.auth.login(body, client_address(request))

    @router.post(
        "/auth/refresh",
        response_model=TokenOut,
        tags=["auth"],
        summary="A new token pair for a refresh token, from the person's current record",
    )
    async def refresh(body: Refresh, request: Request):
        return await handlers.auth.refresh(body.refresh_token, client_address(request))

    @router.get("/auth/me", tags=["auth"], summary="Who the token belongs to, as their record says now")
    async def me(principal: CurrentStaff) -> Principal:
        return principal

    @router.post("/accounts", status_code=201, response_model=AccountOut, tags=["accounts"], summary="Sign up")
    async def create_account(body: CreateAccount, request: Request):
        return await handlers.accounts.create_account(body, client_address(request))

    @router.post("/companies", status_code=201, response_model=CompanyOut, tags=["companies"])
    async def create_company(body: CreateCompany, admin: Admin):
        return await handlers.accounts.create_company(admin, body)

    @router.get(
        "/companies",
        response_model=list[CompanyOut],
        tags=["companies"],
        summary="The account's companies (admin) or the companies you can access (technician)",
    )
    async def list_companies(principal: CurrentStaff):
        return await handlers.accounts.list_companies(principal)

    @router.get(
        "/companies/search",
        response_model=CompanyPage,
        tags=["companies"],
        summary="One page of the account's companies, searched by name, with totals",
    )
    async def search_companies(admin: Admin, q: SearchText = "", page: PageNumber = 1, per_page: PerPage = 20):
        return await handlers.companies.search(admin, q.strip(), Page(page, per_page))

    @router.patch(
        "/companies/{company_id}",
        response_model=CompanyOut,
        tags=["companies"],
        summary="Rename a company (names are unique within the account)",
    )
    async def rename_company(company_id: RefPath, body: RenameCompany, admin: Admin):
        return await handlers.companies.rename(admin, company_id, body)

    @router.delete(
        "/companies/{company_id}",
        response_model=DeletedCompanyOut,
        tags=["companies"],
        summary="Delete a company: its portal is switched off and every technician loses access to it",
    )
    async def delete_company(company_id: RefPath, admin: Admin):
        return await handlers.companies.delete(admin, company_id)

    @router.get(
        "/technicians/search",
        response_model=TechnicianPage,
        tags=["technicians"],
        summary="One page of the account's current technicians, searched by name or e-mail, with totals",
    )
    async def search_technicians(admin: Admin, q: SearchText = "", page: PageNumber = 1, per_page: PerPage = 20):
        return await handlers.technicians.search(admin, q.strip(), Page(page, per_page))

    @router.get(
        "/requests/{request_id}/customer",
        response_model=CustomerPanelOut,
        tags=["requests"],
        summary="The customer panel: who asked, through which portal, what they wrote, their earlier requests",
    )
    async def customer_panel(request_id: RefPath, principal: CurrentStaff):
        return await handlers.customer_panel.of_request(principal, request_id)

    @router.post("/technicians", status_code=201, response_model=TechnicianOut, tags=["technicians"])
    async def create_technician(body: CreateTechnician, admin: Admin):
        return await handlers.technicians.create(admin, body)

    @router.get("/technicians", response_model=list[TechnicianOut], tags=["technicians"])
    async def list_technicians(admin: Admin):
        return await handlers.technicians.of_account(admin)

    @router.patch("/technicians/{technician_id}", response_model=TechnicianOut, tags=["technicians"])
    async def update_technician(technician_id: RefPath, body: UpdateTechnician, admin: Admin):
        return await handlers.technicians.update(admin, technician_id, body)

    @router.delete("/technicians/{technician_id}", response_model=TechnicianOut, tags=["technicians"])
    async def remove_technician(technician_id: RefPath, admin: Admin):
        return await handlers.technicians.remove(admin, technician_id)

    @router.post("/portals", status_code=201, response_model=PortalOut, tags=["portals"])
    async def create_portal(body: CreatePortal, admin: Admin):
        return await handlers.portals.create(admin, body)

    @router.get("/portals", response_model=list[PortalOut], tags=["portals"])
    async def list_portals(admin: Admin):
        return await handlers.portals.of_account(admin)

    @router.get("/portals/{portal_id}", response_model=PortalOut, tags=["portals"])
    async def get_portal(portal_id: RefPath, admin: Admin):
        return await handlers.portals.get(admin, portal_id)

    @router.patch("/portals/{portal_id}", response_model=PortalOut, tags=["portals"])
    async def update_portal(portal_id: RefPath, body: UpdatePortal, admin: Admin):
        return await handlers.portals.update(admin, portal_id, body)

    @router.post("/portals/{portal_id}/deactivate", response_model=PortalOut, tags=["portals"])
    async def deactivate_portal(portal_id: RefPath, admin: Admin):
        return await handlers.portals.set_status(admin, portal_id, PortalStatus.INACTIVE)

    @router.post("/portals/{portal_id}/activate", response_model=PortalOut, tags=["portals"])
    async def activate_portal(portal_id: RefPath, admin: Admin):
        return await handlers.portals.set_status(admin, portal_id, PortalStatus.ACTIVE)

    @router.get("/portals/{portal_id}/embed", response_model=EmbedOut, tags=["portals"], summary="URLs and code")
    async def embed(portal_id: RefPath, admin: Admin):
        return await handlers.portals.embed_code(admin, portal_id)

    @router.get("/messages", response_model=MessagesOut, tags=["messages"], summary="Offline messages you can answer")
    async def list_messages(principal: CurrentStaff):
        return await handlers.messages.listing(principal)

    @router.post(
        "/messages/{message_id}/answer",
        response_model=OfflineMessageOut,
        tags=["messages"],
        summary="Answer an offline message by e-mail (kept with the message)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": AnswerMessage.model_json_schema()}},
            }
        },
    )
    async def answer_message(
        message_id: RefPath, principal: CurrentStaff, body: Annotated[object, Body(include_in_schema=False)]
    ):
        try:
            return await handlers.messages.answer(principal, message_id, body)
        except InvalidFields as error:
            return invalid_fields(error)

    return router
