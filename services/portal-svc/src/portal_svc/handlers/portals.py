"""Portals: create, list, edit, deactivate, and their URLs and embed code (admin-only)."""

from typing import Any

from contracts import new_id
from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.portal_directory import PortalDirectory
from portal_svc.adapters.portals import PortalRepository
from portal_svc.domain.commands import CreatePortal, UpdatePortal
from portal_svc.domain.embed import embed_code
from portal_svc.domain.errors import Conflict, NotFound
from portal_svc.domain.events import portal_configured
from portal_svc.domain.hours import DEFAULT_MAX_WAIT_SECONDS
from portal_svc.domain.portals import check_mode_and_type, check_subdomain, normalise_origins
from portal_svc.handlers.stamp import Stamp
from servicekit.auth import Principal


class Portals:
    def __init__(
        self,
        portals: PortalRepository,
        companies: CompanyRepository,
        directory: PortalDirectory,
        stamp: Stamp,
        *,
        public_base_url: str,
    ) -> None:
        self._portals = portals
        self._directory = directory
        self._companies = companies
        self._stamp = stamp
        self._base_url = public_base_url.rstrip("/")

    def view(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {
            "portal_id": doc["_id"],
            "company_id": doc["company_id"],
            "subdomain": doc["subdomain"],
            "status": doc["status"],
            "mode": doc["mode"],
            "portal_type": doc["portal_type"],
            "allowed_origins": doc["allowed_origins"],
            "hours": doc.get("hours"),
            "max_wait_seconds": doc.get("max_wait_seconds", DEFAULT_MAX_WAIT_SECONDS),
            "revision": doc["revision"],
            "url": f"{self._base_url}/p/{doc['subdomain']}",
        }

    async def create(self, admin: Principal, command: CreatePortal) -> dict[str, Any]:
        subdomain = check_subdomain(command.subdomain)
        check_mode_and_type(command.mode, command.portal_type)
        origins = normalise_origins(command.allowed_origins)
        if await self._companies.get(admin.account_id, command.company_id) is None:
            raise NotFound("no such company in your account", code="company_not_found")
        portal_id = new_id("prt")
        doc: dict[str, Any] = {
            "_id": portal_id,
            "account_id": admin.account_id,
            "company_id": command.company_id,
            "subdomain": subdomain,
            "status": command.status.value,
            "mode": command.mode.value,
            "portal_type": command.portal_type.value,
            "allowed_origins": origins,
            "hours": command.hours.model_dump(mode="json") if command.hours else None,
            "max_wait_seconds": command.max_wait_seconds,
            "revision": 1,
        }
        await self._portals.insert(doc, [self._stamp(portal_configured(doc), correlation_id=portal_id)])
        self._directory.forget(subdomain)
        return self.view(doc)

    async def of_account(self, admin: Principal) -> list[dict[str, Any]]:
        return [self.view(doc) for doc in await self._portals.of_account(admin.account_id)]

    async def _get(self, admin: Principal, portal_id: str) -> dict[str, Any]:
        # Another account's portal is reported exactly like a missing one: nothing leaks.
        doc = await self._portals.get(admin.account_id, portal_id)
        if doc is None:
            raise NotFound("no such portal in your account", code="portal_not_found")
        return doc

    async def get(self, admin: Principal, portal_id: str) -> dict[str, Any]:
        return self.view(await self._get(admin, portal_id))

    async def update(self, admin: Principal, portal_id: str, command: UpdatePortal) -> dict[str, Any]:
        for _ in range(5):
            current = await self._get(admin, portal_id)
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
            if "hours" in command.model_fields_set:
                change["hours"] = command.hours.model_dump(mode="json") if command.hours else None
            if command.max_wait_seconds is not None:
                change["max_wait_seconds"] = command.max_wait_seconds
            updated = {**current, **change, "revision": current["revision"] + 1}
            check_mode_and_type(ConnectionMode(updated["mode"]), PortalType(updated["portal_type"]))
            if all(current.get(k) == v for k, v in change.items()):
                return self.view(current)
            event = self._stamp(portal_configured(updated), correlation_id=portal_id)
            if await self._portals.change(portal_id, current["revision"], change, [event]) is not None:
                # Every replica serves the change at once (or within its cache's bound).
                await self._directory.changed(current["subdomain"], updated["subdomain"])
                return self.view(updated)
        raise Conflict("the portal is being changed by someone else; try again", code="concurrent_change")

    async def set_status(self, admin: Principal, portal_id: str, status: PortalStatus) -> dict[str, Any]:
        return await self.update(admin, portal_id, UpdatePortal(status=status))

    async def embed_code(self, admin: Principal, portal_id: str) -> dict[str, Any]:
        doc = await self._get(admin, portal_id)
        company = await self._companies.get(admin.account_id, doc["company_id"])
        code = embed_code(self._base_url, doc["subdomain"], company["name"] if company else doc["subdomain"])
        return {
            "portal_id": doc["_id"],
            "standalone_url": code.standalone_url,
            "popup_snippet": code.popup_snippet,
            "embed_snippet": code.embed_snippet,
            "widget_snippet": code.widget_snippet,
            "allowed_origins": doc["allowed_origins"],
        }
