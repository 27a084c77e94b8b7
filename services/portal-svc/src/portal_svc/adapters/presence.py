"""The availability snapshot of presence-svc, asked for at start-up (never per page view)."""

from datetime import timedelta

import httpx

from contracts import TechnicianAvailable
from servicekit.auth import Principal, Role, issue_token


class PresenceUnavailable(Exception):
    """presence-svc could not be reached or answered something else than a snapshot."""


class PresenceClient:
    def __init__(self, presence_url: str, jwt_secret: str, *, timeout: float = 5.0) -> None:
        self._url = presence_url.rstrip("/") + "/api/presence/snapshot"
        self._secret = jwt_secret
        self._timeout = timeout

    async def snapshot(self) -> list[TechnicianAvailable]:
        """Who is available now; PresenceUnavailable when presence-svc cannot tell."""
        token = issue_token(
            Principal(subject="portal-svc", role=Role.SERVICE, account_id="*"), self._secret, timedelta(minutes=5)
        )
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.get(self._url, headers={"Authorization": f"Bearer {token}"})
                response.raise_for_status()
                return [TechnicianAvailable.model_validate(item) for item in response.json()["technicians"]]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            # ValueError covers a body that is not JSON and a ValidationError of an item.
            raise PresenceUnavailable(f"{type(error).__name__}: {str(error)[:300]}") from error
