"""The availability snapshot of presence-svc, asked for once at start-up (never per page view)."""

from datetime import timedelta

import httpx

from contracts import TechnicianAvailable
from servicekit.auth import Principal, Role, issue_token


async def fetch_snapshot(presence_url: str, jwt_secret: str, *, timeout: float = 5.0) -> list[TechnicianAvailable]:
    token = issue_token(
        Principal(subject="portal-svc", role=Role.SERVICE, account_id="*"), jwt_secret, timedelta(minutes=5)
    )
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.get(
            presence_url.rstrip("/") + "/api/presence/snapshot", headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()
        return [TechnicianAvailable.model_validate(item) for item in response.json()["technicians"]]
