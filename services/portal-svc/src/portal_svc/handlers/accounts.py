"""Signing up (an account and its first admin) and the account's companies."""

from datetime import UTC, datetime
from typing import Any

from contracts import new_id
from portal_svc.adapters.accounts import AccountRepository
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.passwords import hash_password
from portal_svc.adapters.ratelimit import Limit
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.commands import CreateAccount, CreateCompany
from portal_svc.domain.events import company_updated
from portal_svc.handlers.stamp import Stamp
from servicekit.auth import Principal, Role


def company_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"company_id": doc["_id"], "name": doc["name"]}


class Accounts:
    def __init__(
        self,
        accounts: AccountRepository,
        users: UserRepository,
        companies: CompanyRepository,
        signups: Limit,
        stamp: Stamp,
    ) -> None:
        self._accounts = accounts
        self._users = users
        self._companies = companies
        self._signups = signups
        self._stamp = stamp

    async def create_account(self, command: CreateAccount, client: str) -> dict[str, Any]:
        await self._signups.hit(client)
        account_id, admin_id = new_id("acc"), new_id("adm")
        # The admin (unique e-mail) goes first: a taken e-mail then leaves no orphan account.
        await self._users.insert(
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
        await self._accounts.insert({"_id": account_id, "name": command.account_name, "created_at": datetime.now(UTC)})
        return {"account_id": account_id, "admin_id": admin_id, "name": command.account_name}

    async def create_company(self, admin: Principal, command: CreateCompany) -> dict[str, Any]:
        company_id = new_id("cmp")
        doc = {"_id": company_id, "account_id": admin.account_id, "name": command.name, "revision": 1}
        await self._companies.insert(doc, [self._stamp(company_updated(doc), correlation_id=company_id)])
        return company_view(doc)

    async def list_companies(self, principal: Principal) -> list[dict[str, Any]]:
        """`principal` as their record says now (see `StaffAuth.current`)."""
        companies = await self._companies.of_account(principal.account_id)
        return [company_view(doc) for doc in companies if principal.can_access_company(doc["_id"])]
