"""Sign-in, refresh, and who a staff token's holder is now."""

from typing import Any

from portal_svc.adapters.passwords import verify_password
from portal_svc.adapters.ratelimit import Limit
from portal_svc.adapters.tokens import TokenIssuer
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.commands import Login
from portal_svc.domain.errors import Unauthorized
from servicekit.auth import Principal, Role
from servicekit.logging import get_logger

log = get_logger(__name__)

STAFF = frozenset({Role.ADMIN, Role.TECHNICIAN, Role.SUPERVISOR})


def principal_of(user: dict[str, Any]) -> Principal:
    """The person as their record says now (a technician's companies included)."""
    role = Role(user["role"])
    return Principal(
        subject=user["_id"],
        role=role,
        account_id=user["account_id"],
        name=user["name"],
        company_ids=list(user.get("company_ids", [])) if role is Role.TECHNICIAN else [],
    )


class StaffAuth:
    def __init__(self, users: UserRepository, tokens: TokenIssuer, logins: Limit, refreshes: Limit) -> None:
        self._users = users
        self._tokens = tokens
        self._logins = logins
        self._refreshes = refreshes

    def _signed_in(self, principal: Principal) -> dict[str, Any]:
        pair = self._tokens.staff(principal)
        return {
            "token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "role": principal.role.value,
            "user_id": principal.subject,
            "account_id": principal.account_id,
            "name": principal.name,
            "company_ids": principal.company_ids,
            "expires_in": pair.expires_in,
        }

    async def login(self, command: Login, client: str) -> dict[str, Any]:
        await self._logins.hit(client)
        user = await self._users.by_email(command.email)
        valid = await verify_password(user["password_hash"] if user else None, command.password)
        if not user or not valid or not user.get("enabled", True) or Role(user["role"]) not in STAFF:
            raise Unauthorized("invalid e-mail or password", code="invalid_credentials")
        log.info("signed in", user_id=user["_id"], role=user["role"])
        return self._signed_in(principal_of(user))

    async def refresh(self, refresh_token: str, client: str) -> dict[str, Any]:
        """A fresh pair for the holder of `refresh_token`, from their record as it is now."""
        # Counted before the token is checked: guessing refresh tokens costs attempts too.
        await self._refreshes.hit(client)
        holder = self._tokens.refreshing(refresh_token)
        return self._signed_in(await self.current(holder))

    async def current(self, principal: Principal) -> Principal:
        """The staff member behind a token as their record says now: a removed person is
        refused, and a technician's companies are today's, not those the token was issued with."""
        user = await self._users.by_id(principal.subject)
        if (
            user is None
            or not user.get("enabled", True)
            or user["account_id"] != principal.account_id
            or user["role"] != principal.role.value
        ):
            raise Unauthorized("this account was removed or disabled", code="account_disabled")
        return principal_of(user)
