"""Access tokens: issued by portal-svc, verified by every service.

The roles never mix: admins configure their account, technicians see only the companies
they were given, customers see only the request their token was issued for, supervisors
only read the dashboard of their account's companies (portal-svc alone serves them).
"""

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
from fastapi import Request, WebSocket
from pydantic import BaseModel, Field, ValidationError

from servicekit.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"
ISSUER = "assistline"


class Role(StrEnum):
    ADMIN = "admin"
    TECHNICIAN = "technician"
    CUSTOMER = "customer"
    SUPERVISOR = "supervisor"
    """Reads the live dashboard of the account's companies, and nothing else."""
    SERVICE = "service"
    """Another Assistline service (e.g. a read-model bootstrap over HTTP)."""


class Principal(BaseModel):
    subject: str = Field(description="User id (admin, technician) or request id (customer).")
    role: Role
    account_id: str
    name: str = ""
    company_ids: list[str] = Field(default_factory=list)
    request_id: str | None = None

    def can_access_company(self, company_id: str) -> bool:
        return self.role is Role.ADMIN or company_id in self.company_ids


ACCESS = "access"
REFRESH = "refresh"
"""Token kinds (claim `typ`). A refresh token only buys a new access token from portal-svc,
which re-reads the person's current record first; no service accepts it as an access token."""


def issue_token(principal: Principal, secret: str, ttl: timedelta, *, kind: str = ACCESS) -> str:
    now = datetime.now(UTC)
    claims = {
        "typ": kind,
        # Unique per issue: two tokens signed in the same second for the same person differ.
        "jti": secrets.token_hex(8),
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl,
        "sub": principal.subject,
        "role": principal.role.value,
        "acc": principal.account_id,
        "name": principal.name,
        "cmp": principal.company_ids,
        "req": principal.request_id,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str, *, kind: str = ACCESS) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]})
        if claims.get("typ", ACCESS) != kind:
            raise Unauthorized(f"this is not an {kind} token", code="wrong_token_kind")
        return Principal(
            subject=claims["sub"],
            role=claims["role"],
            account_id=claims["acc"],
            name=claims.get("name", ""),
            company_ids=claims.get("cmp") or [],
            request_id=claims.get("req"),
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthorized("token expired", code="token_expired") from error
    except (jwt.InvalidTokenError, KeyError, ValidationError) as error:
        raise Unauthorized("invalid token", code="invalid_token") from error


WS_SUBPROTOCOL = "assistline"
"""The subprotocol a server accepts a WebSocket with (echoed in the handshake response)."""
WS_TOKEN_PREFIX = "bearer."


def websocket_subprotocols(token: str) -> list[str]:
    """What a client offers as `Sec-WebSocket-Protocol`: our protocol, then its token.

    Browsers cannot set an Authorization header on a WebSocket, and a token in the URL ends
    up in access logs, proxies and history; the subprotocol list is a header, logged by no one.
    """
    return [WS_SUBPROTOCOL, WS_TOKEN_PREFIX + token]


def bearer_token(connection: Request | WebSocket) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if isinstance(connection, WebSocket):
        for offered in connection.scope.get("subprotocols", []):
            if offered.startswith(WS_TOKEN_PREFIX):
                return offered.removeprefix(WS_TOKEN_PREFIX)
    return None


class Authenticator:
    """FastAPI dependencies: `Depends(auth.require(Role.ADMIN))` and friends."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def principal(self, connection: Request | WebSocket) -> Principal:
        token = bearer_token(connection)
        if not token:
            raise Unauthorized("missing bearer token", code="missing_token")
        return verify_token(token, self._secret)

    def require(self, *roles: Role):
        allowed: Iterable[Role] = roles

        def dependency(request: Request) -> Principal:
            principal = self.principal(request)
            if principal.role not in allowed:
                raise Forbidden(
                    f"this needs the role {' or '.join(r.value for r in allowed)}",
                    code="wrong_role",
                )
            return principal

        return dependency
