"""Sign-in, accounts, companies and technicians (admin-only except sign-in and sign-up)."""

from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from servicekit.auth import Principal, Role
from servicekit.logging import get_logger

from portal_svc.adapters.passwords import hash_password, verify_password
from portal_svc.domain.commands import CreateAccount, CreateCompany, CreateTechnician, Login, UpdateTechnician
from portal_svc.domain.errors import Conflict, Invalid, NotFound, Unauthorized
from portal_svc.handlers.context import Context, new_id

log = get_logger(__name__)

EMAIL_TAKEN = "this e-mail address is already in use"


async def login(ctx: Context, command: Login, client: str) -> dict[str, Any]:
    ctx.logins.hit(client)
    user = await ctx.repo.user_by_email(command.email)
    valid = await verify_password(user["password_hash"] if user else None, command.password)
    if not user or not valid or not user.get("enabled", True):
        raise Unauthorized("invalid e-mail or password", code="invalid_credentials")
    principal = Principal(
        subject=user["_id"],
        role=Role(user["role"]),
        account_id=user["account_id"],
        name=user["name"],
        company_ids=user.get("company_ids", []) if user["role"] == Role.TECHNICIAN else [],
    )
    log.info("signed in", user_id=user["_id"], role=user["role"])
    return {
        "token": ctx.sign(principal, ctx.settings.staff_token_ttl_hours),
        "role": principal.role.value,
        "user_id": principal.subject,
        "account_id": principal.account_id,
        "name": principal.name,
        "company_ids": principal.company_ids,
        "expires_in": int(ctx.settings.staff_token_ttl_hours * 3600),
    }


async def create_account(ctx: Context, command: CreateAccount, client: str) -> dict[str, Any]:
    ctx.logins.hit(client)
    account_id, admin_id = new_id("acc"), new_id("adm")
    # The admin (unique e-mail) goes first: a taken e-mail then leaves no orphan account.
    try:
        await ctx.repo.users.insert_one(
            {
                "_id": admin_id,
                "account_id": account_id,
                "role": Role.ADMIN.value,
                "email": command.admin_email,
                "name": command.admin_name,
                "password_hash": await hash_password(command.admin_password),
                "enabled": True,
                "revision": 1,
            }
        )
    except DuplicateKeyError as error:
        raise Conflict(EMAIL_TAKEN, code="email_taken") from error
    await ctx.repo.accounts.insert_one(
        {"_id": account_id, "name": command.account_name, "created_at": datetime.now(UTC)}
    )
    return {"account_id": account_id, "admin_id": admin_id, "name": command.account_name}


def company_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"company_id": doc["_id"], "name": doc["name"]}


async def create_company(ctx: Context, admin: Principal, command: CreateCompany) -> dict[str, Any]:
    doc = {"_id": new_id("cmp"), "account_id": admin.account_id, "name": command.name}
    await ctx.repo.companies.insert_one(doc)
    return company_view(doc)


async def list_companies(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    companies = await ctx.repo.companies_of(principal.account_id)
    return [company_view(doc) for doc in companies if principal.can_access_company(doc["_id"])]


def technician_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "technician_id": doc["_id"],
        "name": doc["name"],
        "email": doc["email"],
        "company_ids": doc["company_ids"],
        "capacity": doc["capacity"],
        "enabled": doc["enabled"],
        "revision": doc["revision"],
    }


async def _check_companies(ctx: Context, account_id: str, company_ids: list[str]) -> list[str]:
    unique = sorted(set(company_ids))
    if await ctx.repo.count_companies(account_id, unique) != len(unique):
        raise Invalid("company_ids must name companies of your account", code="unknown_company")
    return unique


async def create_technician(ctx: Context, admin: Principal, command: CreateTechnician) -> dict[str, Any]:
    doc = {
        "_id": new_id("tec"),
        "account_id": admin.account_id,
        "role": Role.TECHNICIAN.value,
        "email": command.email,
        "name": command.name,
        "password_hash": await hash_password(command.password),
        "company_ids": await _check_companies(ctx, admin.account_id, command.company_ids),
        "capacity": command.capacity,
        "enabled": True,
        "revision": 1,
    }
    events = [ctx.technician_event(doc, correlation_id=doc["_id"])]
    try:
        await ctx.repo.insert_with_events(ctx.repo.users, doc, events, ctx.runtime.outbox)
    except DuplicateKeyError as error:
        raise Conflict(EMAIL_TAKEN, code="email_taken") from error
    return technician_view(doc)


async def list_technicians(ctx: Context, admin: Principal) -> list[dict[str, Any]]:
    return [technician_view(doc) for doc in await ctx.repo.users_of(admin.account_id, Role.TECHNICIAN.value)]


async def _technician(ctx: Context, admin: Principal, technician_id: str) -> dict[str, Any]:
    doc = await ctx.repo.user(admin.account_id, technician_id, Role.TECHNICIAN.value)
    if doc is None:
        raise NotFound("no such technician in your account", code="technician_not_found")
    return doc


async def _change_technician(
    ctx: Context, admin: Principal, technician_id: str, change: dict[str, Any]
) -> dict[str, Any]:
    # Optimistic concurrency: re-read and retry when another admin changed it meanwhile.
    for _ in range(5):
        current = await _technician(ctx, admin, technician_id)
        if not current["enabled"]:
            raise Conflict("this technician was removed", code="technician_removed")
        updated = {**current, **change, "revision": current["revision"] + 1}
        events = [ctx.technician_event(updated, correlation_id=technician_id)]
        if await ctx.repo.replace_versioned(
            ctx.repo.users, technician_id, current["revision"], change, events, ctx.runtime.outbox
        ):
            return technician_view(updated)
    raise Conflict("the technician is being changed by someone else; try again", code="concurrent_change")


async def update_technician(
    ctx: Context, admin: Principal, technician_id: str, command: UpdateTechnician
) -> dict[str, Any]:
    if command.password is not None:
        await _technician(ctx, admin, technician_id)
        await ctx.repo.set_password(technician_id, await hash_password(command.password))
    change: dict[str, Any] = {}
    if command.name is not None:
        change["name"] = command.name
    if command.capacity is not None:
        change["capacity"] = command.capacity
    if command.company_ids is not None:
        change["company_ids"] = await _check_companies(ctx, admin.account_id, command.company_ids)
    if not change:
        return technician_view(await _technician(ctx, admin, technician_id))
    return await _change_technician(ctx, admin, technician_id, change)


async def remove_technician(ctx: Context, admin: Principal, technician_id: str) -> dict[str, Any]:
    return await _change_technician(ctx, admin, technician_id, {"enabled": False})
