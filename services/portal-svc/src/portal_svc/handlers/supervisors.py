"""Supervisors of an account: create, list, remove (admin-only).

A supervisor only reads the dashboard of the account's companies, so nothing else needs to
hear about them: no event is published. Removal disables the record, which every dashboard
request and push re-reads (`StaffAuth.current`), and closes their open dashboards at once
(`removed`, the dashboard sockets' hub).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from contracts import new_id
from portal_svc.adapters.passwords import hash_password
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.errors import Conflict, NotFound
from portal_svc.domain.supervisors import CreateSupervisor
from servicekit.auth import Principal, Role

ROLE = Role.SUPERVISOR.value


def supervisor_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"supervisor_id": doc["_id"], "name": doc["name"], "email": doc["email"], "enabled": doc["enabled"]}


async def _no_sockets(_user_id: str) -> None:
    return None


class Supervisors:
    def __init__(self, users: UserRepository, removed: Callable[[str], Awaitable[None]] = _no_sockets) -> None:
        self._users = users
        self.removed = removed

    async def create(self, admin: Principal, command: CreateSupervisor) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_id": new_id("sup"),
            "account_id": admin.account_id,
            "role": ROLE,
            "email": command.email,
            "name": command.name,
            "password_hash": await hash_password(command.password),
            "enabled": True,
            "revision": 1,
        }
        await self._users.insert(doc)
        return supervisor_view(doc)

    async def of_account(self, admin: Principal) -> list[dict[str, Any]]:
        docs = await self._users.of_account(admin.account_id, ROLE)
        return [supervisor_view(doc) for doc in docs if doc["enabled"]]

    async def remove(self, admin: Principal, supervisor_id: str) -> dict[str, Any]:
        for _ in range(5):
            current = await self._users.get(admin.account_id, supervisor_id, ROLE)
            if current is None or not current["enabled"]:
                raise NotFound("There is no such supervisor in your account.", code="supervisor_not_found")
            if await self._users.change(supervisor_id, current["revision"], {"enabled": False}, []) is not None:
                await self.removed(supervisor_id)
                return supervisor_view({**current, "enabled": False})
        raise Conflict("The supervisor is being changed by someone else; try again.", code="concurrent_change")
