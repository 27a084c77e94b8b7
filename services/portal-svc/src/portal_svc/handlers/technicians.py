"""Technicians of an account: create, list, change, remove (admin-only).

Every change publishes `TechnicianUpdated` (a full snapshot with a new revision) in the same
write; removal is a change too (`enabled=False`), so every service hears about it.
"""

from typing import Any

from contracts import new_id
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.passwords import hash_password
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.commands import CreateTechnician, UpdateTechnician
from portal_svc.domain.errors import Conflict, Invalid, NotFound
from portal_svc.domain.events import technician_updated
from portal_svc.domain.paging import Page
from portal_svc.handlers.stamp import Stamp
from servicekit.auth import Principal, Role


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


class Technicians:
    def __init__(self, users: UserRepository, companies: CompanyRepository, stamp: Stamp) -> None:
        self._users = users
        self._companies = companies
        self._stamp = stamp

    async def _check_companies(self, account_id: str, company_ids: list[str]) -> list[str]:
        unique = sorted(set(company_ids))
        if await self._companies.count_of_account(account_id, unique) != len(unique):
            raise Invalid("company_ids must name companies of your account", code="unknown_company")
        return unique

    async def create(self, admin: Principal, command: CreateTechnician) -> dict[str, Any]:
        technician_id = new_id("tec")
        doc: dict[str, Any] = {
            "_id": technician_id,
            "account_id": admin.account_id,
            "role": Role.TECHNICIAN.value,
            "email": command.email,
            "name": command.name,
            "password_hash": await hash_password(command.password),
            "company_ids": await self._check_companies(admin.account_id, command.company_ids),
            "capacity": command.capacity,
            "enabled": True,
            "revision": 1,
        }
        await self._users.insert(doc, [self._stamp(technician_updated(doc), correlation_id=technician_id)])
        return technician_view(doc)

    async def of_account(self, admin: Principal) -> list[dict[str, Any]]:
        return [technician_view(doc) for doc in await self._users.of_account(admin.account_id, Role.TECHNICIAN.value)]

    async def _get(self, admin: Principal, technician_id: str) -> dict[str, Any]:
        doc = await self._users.get(admin.account_id, technician_id, Role.TECHNICIAN.value)
        if doc is None:
            raise NotFound("no such technician in your account", code="technician_not_found")
        return doc

    async def _change(self, admin: Principal, technician_id: str, change: dict[str, Any]) -> dict[str, Any]:
        # Optimistic concurrency: re-read and retry when another admin changed it meanwhile.
        for _ in range(5):
            current = await self._get(admin, technician_id)
            if not current["enabled"]:
                raise Conflict("this technician was removed", code="technician_removed")
            updated = {**current, **change, "revision": current["revision"] + 1}
            event = self._stamp(technician_updated(updated), correlation_id=technician_id)
            if await self._users.change(technician_id, current["revision"], change, [event]) is not None:
                return technician_view(updated)
        raise Conflict("the technician is being changed by someone else; try again", code="concurrent_change")

    async def update(self, admin: Principal, technician_id: str, command: UpdateTechnician) -> dict[str, Any]:
        if command.password is not None:
            await self._get(admin, technician_id)
            await self._users.set_password(technician_id, await hash_password(command.password))
        change: dict[str, Any] = {}
        if command.name is not None:
            change["name"] = command.name
        if command.capacity is not None:
            change["capacity"] = command.capacity
        if command.company_ids is not None:
            change["company_ids"] = await self._check_companies(admin.account_id, command.company_ids)
        if not change:
            return technician_view(await self._get(admin, technician_id))
        return await self._change(admin, technician_id, change)

    async def search(self, admin: Principal, query: str, page: Page) -> dict[str, Any]:
        docs, total = await self._users.search_technicians(admin.account_id, query, skip=page.skip, limit=page.per_page)
        return page.result([technician_view(doc) for doc in docs], total)

    async def drop_company(self, admin: Principal, technician_id: str, company_id: str) -> None:
        """The company is being deleted: take it out of the technician's access."""
        for _ in range(5):
            current = await self._get(admin, technician_id)
            if company_id not in current["company_ids"] or not current["enabled"]:
                return
            kept = [c for c in current["company_ids"] if c != company_id]
            updated = {**current, "company_ids": kept, "revision": current["revision"] + 1}
            event = self._stamp(technician_updated(updated), correlation_id=technician_id)
            if await self._users.change(technician_id, current["revision"], {"company_ids": kept}, [event]) is not None:
                return
        raise Conflict("the technician is being changed by someone else; try again", code="concurrent_change")

    async def remove(self, admin: Principal, technician_id: str) -> dict[str, Any]:
        return await self._change(admin, technician_id, {"enabled": False})

    async def reannounce(self) -> int:
        """Publish `TechnicianUpdated` again for every technician at their current revision.

        For services that started following technicians after some were announced: each
        consumer stores a revision it does not hold yet and ignores one it has, so this is
        safe to run any time. Returns how many were re-announced.
        """
        count = 0
        for doc in await self._users.technicians():
            event = self._stamp(technician_updated(doc), correlation_id=doc["_id"])
            if await self._users.restage(doc["_id"], doc["revision"], [event]):
                count += 1
        return count
