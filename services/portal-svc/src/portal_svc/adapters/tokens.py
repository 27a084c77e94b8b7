"""Signing the tokens portal-svc issues (it is the only service that issues any).

Staff get a pair: a short-lived access token every service accepts, and a refresh token
only portal-svc accepts, in exchange for a new pair built from the person's record as it is
then. Removing a technician or a company from them therefore takes effect at the next
refresh at the latest, while services that decide from their own record react at once.
"""

from dataclasses import dataclass
from datetime import timedelta

from servicekit.auth import REFRESH, Principal, issue_token, verify_token


@dataclass(frozen=True)
class StaffTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    """Seconds the access token is valid."""


class TokenIssuer:
    def __init__(self, secret: str, *, staff_access: timedelta, staff_refresh: timedelta, customer: timedelta) -> None:
        self._secret = secret
        self._staff_access = staff_access
        self._staff_refresh = staff_refresh
        self._customer = customer

    def staff(self, principal: Principal) -> StaffTokens:
        return StaffTokens(
            access_token=issue_token(principal, self._secret, self._staff_access),
            refresh_token=issue_token(principal, self._secret, self._staff_refresh, kind=REFRESH),
            expires_in=int(self._staff_access.total_seconds()),
        )

    def customer(self, principal: Principal) -> str:
        return issue_token(principal, self._secret, self._customer)

    def refreshing(self, refresh_token: str) -> Principal:
        """Whom a refresh token was issued to (Unauthorized when invalid, expired or not a refresh token)."""
        return verify_token(refresh_token, self._secret, kind=REFRESH)
