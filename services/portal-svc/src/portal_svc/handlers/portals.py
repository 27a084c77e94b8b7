"""Portals: create, list, edit, deactivate, and their URLs and embed code (admin-only)."""

from typing import Any

from pymongo.errors import DuplicateKeyError

from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from servicekit.auth import Principal

from portal_svc.adapters.repository import duplicate_field
from portal_svc.domain.commands import CreatePortal, UpdatePortal
from portal_svc.domain.embed import embed_code
from portal_svc.domain.errors import Conflict, NotFound
from portal_svc.domain.portals import check_mode_and_type, check_subdomain, normalise_origins
from portal_svc.handlers.context import Context, new_id


def portal_view(ctx: Context, doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "portal_id": doc["_id"],
        "company_id": doc["company_id"],
        "subdomain": doc["subdomain"],
        "status": doc["status"],
        "mode": doc["mode"],
        "portal_type": doc["portal_type"],
        "allowed_origins": doc["allowed_origins"],
        "revision": doc["revision"],
        "url": f"{ctx.settings.public_base_url.rstrip('/')}/p/{doc['subdomain']}",
    }


def _conflict(error: DuplicateKeyError) -> Conflict:
    if duplicate_field(error) == "company_id":
        return Conflict("this company already has a portal (one portal per company)", code="company_has_portal")
    return Conflict("subdomain already in use", code="subdomain_taken")


async def create_portal(ctx: Context, admin: Principal, command: CreatePortal) -> dict[str, Any]:
    subdomain = check_subdomain(command.subdomain)
    check_mode_and_type(command.mode, command.portal_type)
    origins = normalise_origins(command.allowed_origins)
    if await ctx.repo.company(admin.account_id, command.company_id) is None:
        raise NotFound("no such company in your account", code="company_not_found")
    doc = {
        "_id": new_id("prt"),
        "account_id": admin.account_id,
        "company_id": command.company_id,
        "subdomain": subdomain,
        "status": command.status.value,
        "mode": command.mode.value,
        "portal_type": command.portal_type.value,
        "allowed_origins": origins,
        "revision": 1,
    }
    events = [ctx.portal_event(doc, correlation_id=doc["_id"])]
    try:
        await ctx.repo.insert_with_events(ctx.repo.portals, doc, events, ctx.runtime.outbox)
    except DuplicateKeyError as error:
        raise _conflict(error) from error
    return portal_view(ctx, doc)


async def list_portals(ctx: Context, admin: Principal) -> list[dict[str, Any]]:
    return [portal_view(ctx, doc) for doc in await ctx.repo.portals_of(admin.account_id)]


async def _portal(ctx: Context, admin: Principal, portal_id: str) -> dict[str, Any]:
    # Another account's portal is reported exactly like a missing one: nothing leaks.
    doc = await ctx.repo.portal(admin.account_id, portal_id)
    if doc is None:
        raise NotFound("no such portal in your account", code="portal_not_found")
    return doc


async def get_portal(ctx: Context, admin: Principal, portal_id: str) -> dict[str, Any]:
    return portal_view(ctx, await _portal(ctx, admin, portal_id))


async def update_portal(ctx: Context, admin: Principal, portal_id: str, command: UpdatePortal) -> dict[str, Any]:
    for _ in range(5):
        current = await _portal(ctx, admin, portal_id)
        change: dict[str, Any] = {}
        if command.subdomain is not None:
            change["subdomain"] = check_subdomain(command.subdomain)
        if command.status is not None:
            change["status"] = command.status.value
        if command.mode is not None:
            change["mode"] = command.mode.value
        if command.portal_type is not None:
            change["portal_type"] = command.portal_type.value
        if command.allowed_origins is not None:
            change["allowed_origins"] = normalise_origins(command.allowed_origins)
        updated = {**current, **change, "revision": current["revision"] + 1}
        check_mode_and_type(ConnectionMode(updated["mode"]), PortalType(updated["portal_type"]))
        if all(current.get(k) == v for k, v in change.items()):
            return portal_view(ctx, current)
        events = [ctx.portal_event(updated, correlation_id=portal_id)]
        try:
            changed = await ctx.repo.replace_versioned(
                ctx.repo.portals, portal_id, current["revision"], change, events, ctx.runtime.outbox
            )
        except DuplicateKeyError as error:
            raise _conflict(error) from error
        if changed:
            return portal_view(ctx, updated)
    raise Conflict("the portal is being changed by someone else; try again", code="concurrent_change")


async def set_portal_status(ctx: Context, admin: Principal, portal_id: str, status: PortalStatus) -> dict[str, Any]:
    return await update_portal(ctx, admin, portal_id, UpdatePortal(status=status))


async def portal_embed_code(ctx: Context, admin: Principal, portal_id: str) -> dict[str, Any]:
    doc = await _portal(ctx, admin, portal_id)
    company = await ctx.repo.company(admin.account_id, doc["company_id"])
    code = embed_code(ctx.settings.public_base_url, doc["subdomain"], company["name"] if company else doc["subdomain"])
    return {
        "portal_id": doc["_id"],
        "standalone_url": code.standalone_url,
        "popup_snippet": code.popup_snippet,
        "embed_snippet": code.embed_snippet,
        "allowed_origins": doc["allowed_origins"],
    }
