"""Test doubles of the other services: they publish what portal-svc and dispatch-svc would,
and open the help center's WebSocket the way the browser does (testkit's helpers)."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contracts import Envelope, EventPayload, PortalConfigured, RequestOffered, TechnicianUpdated
from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from servicekit.auth import Role
from testkit import FrameCollector, bearer, connect, eventually, ws_url
from testkit.amqp import publish_raw
from testkit.plugin import make_token

ACCOUNT = "acc_test"
GRACE = 1.0
HEARTBEAT_TIMEOUT = 1.5
WS_PATH = "/api/presence/ws"


def uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def tech_token(technician_id: str, companies: list[str], account: str = ACCOUNT) -> str:
    return make_token(Role.TECHNICIAN, subject=technician_id, account_id=account, company_ids=companies)


async def publish(rabbitmq_url: str, payload: EventPayload, **envelope: Any) -> Envelope[Any]:
    event = Envelope[type(payload)].of(payload, producer="test", correlation_id=uid("corr"))  # type: ignore[misc]
    if envelope:
        event = event.model_copy(update=envelope)
    await publish_raw(
        rabbitmq_url,
        payload.routing_key(),
        event.model_dump_json().encode(),
        message_id=str(event.event_id),
        content_type="application/json",
    )
    return event


def technician(technician_id: str, companies: list[str], *, revision: int = 1, **changes: Any) -> TechnicianUpdated:
    fields = {
        "technician_id": technician_id,
        "account_id": ACCOUNT,
        "display_name": f"Tech {technician_id[-4:]}",
        "company_ids": companies,
        "capacity": 2,
        "enabled": True,
        "revision": revision,
        **changes,
    }
    return TechnicianUpdated(**fields)


def portal(company_id: str, *, active: bool = True, revision: int = 1) -> PortalConfigured:
    return PortalConfigured(
        portal_id=f"prt_{company_id}",
        account_id=ACCOUNT,
        company_id=company_id,
        subdomain=company_id.replace("_", "-"),
        status=PortalStatus.ACTIVE if active else PortalStatus.INACTIVE,
        mode=ConnectionMode.WEB,
        portal_type=PortalType.SMART_BOX,
        revision=revision,
    )


def offer(request_id: str, company_id: str, technician_ids: list[str]) -> RequestOffered:
    return RequestOffered(
        request_id=request_id,
        account_id=ACCOUNT,
        company_id=company_id,
        technician_ids=technician_ids,
        portal_type=PortalType.SMART_BOX,
        customer_name="Bob Customer",
        description="My printer is on fire",
        expires_at=datetime.now(UTC) + timedelta(seconds=30),
    )


async def open_socket(base_url: str, token: str, *, heartbeat_every: float | None = 0.3) -> FrameCollector:
    """A help-center tab that has not necessarily been let in (refusals are read from it)."""
    return FrameCollector(await connect(ws_url(base_url, WS_PATH), token), heartbeat_every=heartbeat_every).start()


async def open_help_center(base_url: str, token: str, *, heartbeat_every: float | None = 0.3) -> FrameCollector:
    """A tab the test closes itself (to drop connections at chosen moments), past its hello."""
    tab = await open_socket(base_url, token, heartbeat_every=heartbeat_every)
    await tab.wait_for(lambda f: f["type"] == "hello", timeout=10)
    return tab


@contextlib.asynccontextmanager
async def help_center(
    base_url: str, token: str, *, heartbeat_every: float | None = 0.3
) -> AsyncIterator[FrameCollector]:
    tab = await open_help_center(base_url, token, heartbeat_every=heartbeat_every)
    try:
        yield tab
    finally:
        await tab.close()


async def known(client: httpx.AsyncClient, base_url: str, token: str) -> dict[str, Any]:
    """Wait until presence-svc has absorbed the technician's events; returns GET /me."""

    async def check() -> dict[str, Any] | None:
        response = await client.get(base_url + "/api/presence/me", headers=bearer(token))
        return response.json() if response.status_code == 200 else None

    return await eventually(check, timeout=10, what="technician known to presence")


async def drained(tab: FrameCollector) -> None:
    """Positive barrier: every frame the server wrote to this socket before now has arrived.

    The server answers a client frame in order on the same connection, so the answer to a
    frame unique to this call comes after anything sent to the socket before it was read."""
    marker = uid("barrier")
    await tab.send({"type": marker})
    await tab.wait_for(lambda f: f["type"] == "error" and marker in f["message"], timeout=10)


async def staff(presence, client, company: str | list[str], *, available: bool = True, contact: str | None = None):
    """A technician of `company` (or companies), known to presence, with the chosen status and e-mail."""
    companies = [company] if isinstance(company, str) else company
    tech = uid("tec")
    token = tech_token(tech, companies)
    await publish(presence.rabbitmq_url, technician(tech, companies))
    await known(client, presence.base_url, token)
    status = "available" if available else "unavailable"
    response = await client.put(
        presence.base_url + "/api/presence/me/status", json={"status": status}, headers=bearer(token)
    )
    assert response.status_code == 200
    if contact:
        response = await client.put(
            presence.base_url + "/api/presence/me/preferences",
            json={"email_alerts": True, "contacts": [contact], "sound": False},
            headers=bearer(token),
        )
        assert response.status_code == 200, response.text
    return tech, token


async def company_with_portal(presence) -> str:
    company = uid("cmp")
    await publish(presence.rabbitmq_url, portal(company))
    return company
