"""The account's companies: find (search and pages), rename, delete (admin-only; adding
one is `Accounts.create_company`).

Deleting a company is spelt out to the admin before it happens, and done with the events
other services already follow, in an order that a crash part-way leaves safe to repeat:
1. its portal is switched off (`PortalConfigured`, inactive): customers see "Service
   unavailable" and dispatch refuses new requests for it;
2. every technician loses access to it (`TechnicianUpdated` each): chat-svc closes their
   open chats of that company, dispatch returns unacknowledged assignments and routes
   nothing more of it to them;
3. the company itself goes, announced by `CompanyUpdated` (deleted): dispatch cancels its
   requests still waiting, telling each customer why, and chat-svc forgets its name. Past
   chats stay in the transcripts admins can read.

Renames announce `CompanyUpdated` too: chat-svc fills `{company_name}` in canned replies.
"""

from typing import Any

from contracts.vocabulary import PortalStatus
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.portal_directory import PortalDirectory
from portal_svc.adapters.portals import PortalRepository
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.commands import RenameCompany
from portal_svc.domain.errors import Conflict, NotFound
from portal_svc.domain.events import company_updated
from portal_svc.domain.paging import Page
from portal_svc.handlers.accounts import company_view
from portal_svc.handlers.portals import Portals
from portal_svc.handlers.stamp import Stamp
from portal_svc.handlers.technicians import Technicians
from servicekit.auth import Principal


class Companies:
    def __init__(
        self,
        companies: CompanyRepository,
        portals: PortalRepository,
        users: UserRepository,
        portal_handlers: Portals,
        technicians: Technicians,
        directory: PortalDirectory,
        stamp: Stamp,
    ) -> None:
        self._stamp = stamp
        self._companies = companies
        self._portals = portals
        self._users = users
        self._portal_handlers = portal_handlers
        self._technicians = technicians
        self._directory = directory

    async def search(self, admin: Principal, query: str, page: Page) -> dict[str, Any]:
        docs, total = await self._companies.search(admin.account_id, query, skip=page.skip, limit=page.per_page)
        portals = {p["company_id"]: p for p in await self._portals.of_account(admin.account_id)}
        items = []
        for doc in docs:
            portal = portals.get(doc["_id"])
            technicians = await self._users.with_company(admin.account_id, doc["_id"])
            items.append(
                {
                    **company_view(doc),
                    "portal_subdomain": portal["subdomain"] if portal else None,
                    "portal_status": portal["status"] if portal else None,
                    "technician_count": len(technicians),
                }
            )
        return page.result(items, total)

    async def _portal_of(self, admin: Principal, company_id: str) -> dict[str, Any] | None:
        return next(
            (p for p in await self._portals.of_account(admin.account_id) if p["company_id"] == company_id), None
        )

    async def _current(self, admin: Principal, company_id: str) -> dict[str, Any]:
        doc = await self._companies.get(admin.account_id, company_id)
        if doc is None:
            raise NotFound("There is no such company in your account.", code="company_not_found")
        return doc

    def _announce(self, doc: dict[str, Any], name: str, *, deleted: bool = False) -> list[Any]:
        after = {**doc, "name": name, "revision": doc.get("revision", 0) + 1}
        return [self._stamp(company_updated(after, deleted=deleted), correlation_id=doc["_id"])]

    async def rename(self, admin: Principal, company_id: str, command: RenameCompany) -> dict[str, Any]:
        current = await self._current(admin, company_id)
        revision = current.get("revision", 0)
        events = self._announce(current, command.name)
        doc = await self._companies.rename(admin.account_id, company_id, revision, command.name, events)
        if doc is None:
            raise Conflict("This company was changed meanwhile: reload and try again.", code="company_changed")
        portal = await self._portal_of(admin, company_id)
        if portal is not None:
            # The portal page shows the company's name: every replica shows the new one at once.
            await self._directory.changed(portal["subdomain"])
        return company_view(doc)

    async def delete(self, admin: Principal, company_id: str) -> dict[str, Any]:
        doc = await self._current(admin, company_id)
        portal = await self._portal_of(admin, company_id)
        if portal is not None and portal["status"] != PortalStatus.INACTIVE.value:
            await self._portal_handlers.set_status(admin, portal["_id"], PortalStatus.INACTIVE)
        technicians = await self._users.with_company(admin.account_id, company_id)
        for technician in technicians:
            await self._technicians.drop_company(admin, technician["_id"], company_id)
        if not await self._companies.delete(
            admin.account_id, company_id, doc.get("revision", 0), self._announce(doc, doc["name"], deleted=True)
        ):
            raise Conflict("This company was changed meanwhile: reload and try again.", code="company_changed")
        return {
            **company_view(doc),
            "portal_deactivated": portal["subdomain"] if portal else None,
            "technicians_updated": len(technicians),
        }

    async def reannounce(self) -> int:
        """Publish `CompanyUpdated` again for every company at its current revision, for
        services that started following companies after they were announced (consumers
        ignore a revision they hold). Returns how many were re-announced."""
        count = 0
        for doc in await self._companies.every_live():
            revision = doc.get("revision", 0)
            event = self._stamp(company_updated({**doc, "revision": max(revision, 1)}), correlation_id=doc["_id"])
            if await self._companies.restage(doc["account_id"], doc["_id"], revision, [event]):
                count += 1
        return count

    async def purge_deleted(self) -> int:
        """Tombstones left by a publication that failed (the sweeper published them since)."""
        return await self._companies.purge_deleted()
