"""HTTP routes for an admin's supervisors (under /api/portal/supervisors)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from portal_svc.domain.supervisors import CreateSupervisor
from portal_svc.handlers.supervisors import Supervisors
from servicekit.auth import Authenticator, Principal, Role

SupervisorId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def supervisors_router(supervisors: Supervisors, auth: Authenticator) -> APIRouter:
    router = APIRouter(prefix="/supervisors", tags=["supervisors"])
    Admin = Annotated[Principal, Depends(auth.require(Role.ADMIN))]

    @router.post("", status_code=201, summary="Add a supervisor: a read-only viewer of the account's dashboard")
    async def create(body: CreateSupervisor, admin: Admin) -> dict[str, Any]:
        return await supervisors.create(admin, body)

    @router.get("", summary="The account's supervisors")
    async def of_account(admin: Admin) -> list[dict[str, Any]]:
        return await supervisors.of_account(admin)

    @router.delete("/{supervisor_id}", summary="Remove a supervisor (refused at once everywhere)")
    async def remove(supervisor_id: SupervisorId, admin: Admin) -> dict[str, Any]:
        return await supervisors.remove(admin, supervisor_id)

    return router
