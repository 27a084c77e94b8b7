"""Helpers of the security suite: tenants of its own, clients with distinct addresses.

Everything here is created in accounts the suite makes for itself, so the demo account
(and the queues and counters of other end-to-end tests sharing the system) stay untouched.

The gateway rate-limits per client address (the peer it sees, never a forwarded header).
On Linux the whole 127.0.0.0/8 block is loopback, so binding the client socket to
127.1.x.y gives each test (and each fuzzing batch) an address of its own: limits are
exercised where a test means to, and never eaten up by another test.
"""

from dataclasses import dataclass
from typing import Any

import httpx

from testkit import http as testkit_http
from testkit import tenants
from testkit.http import bearer, fresh_address
from testkit.tenants import Tenant, unique
from testkit.waiting import eventually

PASSWORD = "security-suite-pass"

__all__ = ["PASSWORD", "Tenant", "bearer", "eventually", "fresh_address", "unique"]


def client(system, address: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """A client of the system's gateway from its own loopback address (or `address`)."""
    return testkit_http.client(system.gateway_url, address=address, **kwargs)


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A refusal: the expected status and the JSON error body every service promises."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    body = response.json()
    assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), body
    if code is not None:
        assert body["error"] == code, body
    return body


async def login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await http.post("/api/portal/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


async def create_tenant(
    system,
    name: str,
    *,
    companies: dict[str, dict[str, Any] | None],
    technicians: dict[str, list[str]],
) -> Tenant:
    """An account of the suite's own (`testkit.tenants.provision_tenant` with its password)."""
    return await tenants.provision_tenant(
        system.gateway_url, name, companies=companies, technicians=technicians, password=PASSWORD
    )


async def submit(system, subdomain: str, address: str | None = None, **fields: Any) -> dict[str, Any]:
    """A customer's submission; returns SubmittedOut (request id and the customer token)."""
    body = {"customer_name": "Casey Customer", "description": "It does not start", **fields}
    async with client(system, address) as http:
        response = await http.post(f"/api/portal/public/portals/{subdomain}/requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def request_status(system, request_id: str, token: str) -> dict[str, Any]:
    async with client(system) as http:
        response = await http.get(f"/api/portal/requests/{request_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def wait_known_to_presence(system, token: str) -> None:
    await tenants.wait_known_to_presence(system.gateway_url, token)


@dataclass
class ChatFixture:
    """A live chat session reached the real way (Phone mode: code, submission, assignment)."""

    tenant: Tenant
    request_id: str
    session_id: str
    customer_token: str
    technician_token: str


async def open_phone_chat(
    system, tenant: Tenant, portal_label: str, technician_label: str, **fields: Any
) -> ChatFixture:
    technician = tenant.technicians[technician_label]
    portal = tenant.portals[portal_label]
    async with client(system) as http:
        issued = await http.post(
            "/api/dispatch/codes", json={"company_id": portal["company_id"]}, headers=bearer(technician["token"])
        )
        assert issued.status_code == 201, issued.text
    submitted = await submit(system, portal["subdomain"], connection_code=issued.json()["code"], **fields)

    async def chat_open() -> dict[str, Any] | None:
        status = await request_status(system, submitted["request_id"], submitted["token"])
        assert status["status"] not in {"rejected", "cancelled"}, status
        return status if status["status"] == "chat_open" else None

    status = await eventually(chat_open, timeout=45, what="the phone request's chat opens")
    return ChatFixture(
        tenant=tenant,
        request_id=submitted["request_id"],
        session_id=status["session_id"],
        customer_token=submitted["token"],
        technician_token=technician["token"],
    )


PUBLIC = ()
ADMIN, TECH, CUSTOMER, SERVICE = "admin", "technician", "customer", "service"

# Every operation of the five APIs and the roles allowed to call it. A new endpoint
# fails test_fuzz_openapi.test_every_operation_is_fuzzed until it is listed here.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "GET /api/portal/health": PUBLIC,
    "GET /api/portal/ready": PUBLIC,
    "GET /api/portal/stats": PUBLIC,  # published by the service, answered 404 by the gateway
    "POST /api/portal/auth/login": PUBLIC,
    "POST /api/portal/auth/refresh": PUBLIC,
    "GET /api/portal/auth/me": (ADMIN, TECH),
    "POST /api/portal/accounts": PUBLIC,
    "GET /api/portal/companies": (ADMIN,),
    "POST /api/portal/companies": (ADMIN,),
    "GET /api/portal/technicians": (ADMIN,),
    "POST /api/portal/technicians": (ADMIN,),
    "PATCH /api/portal/technicians/{technician_id}": (ADMIN,),
    "DELETE /api/portal/technicians/{technician_id}": (ADMIN,),
    "GET /api/portal/portals": (ADMIN,),
    "POST /api/portal/portals": (ADMIN,),
    "GET /api/portal/portals/{portal_id}": (ADMIN,),
    "PATCH /api/portal/portals/{portal_id}": (ADMIN,),
    "POST /api/portal/portals/{portal_id}/deactivate": (ADMIN,),
    "POST /api/portal/portals/{portal_id}/activate": (ADMIN,),
    "GET /api/portal/portals/{portal_id}/embed": (ADMIN,),
    "GET /api/portal/public/portals/{subdomain}": PUBLIC,
    "POST /api/portal/public/portals/{subdomain}/requests": PUBLIC,
    "GET /api/portal/requests/{request_id}": (CUSTOMER,),
    "POST /api/portal/requests/{request_id}/cancel": (CUSTOMER,),
    "GET /api/portal/requests/{request_id}/customer": (ADMIN, TECH),
    "GET /api/portal/companies/search": (ADMIN,),
    "PATCH /api/portal/companies/{company_id}": (ADMIN,),
    "DELETE /api/portal/companies/{company_id}": (ADMIN,),
    "GET /api/portal/technicians/search": (ADMIN,),
    "POST /api/portal/public/portals/{subdomain}/messages": PUBLIC,
    "GET /api/portal/supervisors": (ADMIN,),
    "POST /api/portal/supervisors": (ADMIN,),
    "DELETE /api/portal/supervisors/{supervisor_id}": (ADMIN,),
    "GET /api/portal/messages": (ADMIN, TECH),
    "POST /api/portal/messages/{message_id}/answer": (ADMIN, TECH),
    "GET /api/portal/dashboard/companies": (ADMIN,),  # and supervisors (no token of theirs here)
    "GET /api/portal/dashboard/companies/{company_id}": (ADMIN,),
    "GET /api/portal/dashboard/companies/{company_id}.csv": (ADMIN,),
    "GET /api/presence/health": PUBLIC,
    "GET /api/presence/ready": PUBLIC,
    "GET /api/presence/stats": PUBLIC,  # published by the service, answered 404 by the gateway
    "GET /api/presence/me": (TECH,),
    "PUT /api/presence/me/status": (TECH,),
    "GET /api/presence/me/preferences": (TECH,),
    "PUT /api/presence/me/preferences": (TECH,),
    "POST /api/presence/me/preferences/contacts": (TECH,),
    "DELETE /api/presence/me/preferences/contacts/{address}": (TECH,),
    "GET /api/presence/snapshot": (ADMIN, SERVICE),
    "GET /api/presence/roster": (ADMIN,),
    "GET /api/presence/technicians/{technician_id}/history": (ADMIN,),
    "GET /api/dispatch/health": PUBLIC,
    "GET /api/dispatch/ready": PUBLIC,
    "GET /api/dispatch/stats": PUBLIC,  # published by the service, answered 404 by the gateway
    "GET /api/dispatch/requests": (TECH,),
    "POST /api/dispatch/requests/{request_id}/accept": (TECH,),
    "GET /api/dispatch/codes": (TECH,),
    "POST /api/dispatch/codes": (TECH,),
    "DELETE /api/dispatch/codes/{code_id}": (TECH,),
    "GET /api/dispatch/transfers": (TECH,),
    "GET /api/dispatch/requests/{request_id}/colleagues": (TECH,),
    "POST /api/dispatch/requests/{request_id}/transfer": (TECH,),
    "POST /api/dispatch/requests/{request_id}/transfer/accept": (TECH,),
    "POST /api/dispatch/requests/{request_id}/transfer/decline": (TECH,),
    "POST /api/dispatch/requests/{request_id}/return": (TECH,),
    "POST /api/dispatch/requests/{request_id}/invite": (TECH,),
    "POST /api/dispatch/requests/{request_id}/invite/accept": (TECH,),
    "POST /api/dispatch/requests/{request_id}/invite/decline": (TECH,),
    "POST /api/dispatch/requests/{request_id}/leave": (TECH,),
    "GET /api/dispatch/stats/contention": PUBLIC,  # published by the service, answered 404 by the gateway
    "GET /api/chat/health": PUBLIC,
    "GET /api/chat/ready": PUBLIC,
    "GET /api/chat/stats": PUBLIC,  # published by the service, answered 404 by the gateway
    "GET /api/chat/sessions": (ADMIN, TECH),
    "GET /api/chat/sessions/{session_id}": (ADMIN, TECH, CUSTOMER),
    "GET /api/chat/sessions/{session_id}/transcript": (ADMIN, TECH, CUSTOMER),
    "POST /api/chat/sessions/{session_id}/end": (TECH,),
    "POST /api/chat/sessions/{session_id}/wrap-up": (TECH,),
    "POST /api/chat/sessions/{session_id}/rating": (CUSTOMER,),
    "GET /api/chat/canned-replies": (ADMIN, TECH),
    "POST /api/chat/canned-replies": (ADMIN, TECH),
    "PUT /api/chat/canned-replies/{scope}/{reply_id}": (ADMIN, TECH),
    "DELETE /api/chat/canned-replies/{scope}/{reply_id}": (ADMIN, TECH),
    "GET /api/webhook/health": PUBLIC,
    "GET /api/webhook/ready": PUBLIC,
    "GET /api/webhook/stats": PUBLIC,  # published by the service, answered 404 by the gateway
    "GET /api/webhook/event-types": (ADMIN,),
    "GET /api/webhook/endpoints": (ADMIN,),
    "POST /api/webhook/endpoints": (ADMIN,),
    "GET /api/webhook/endpoints/{endpoint_id}": (ADMIN,),
    "PATCH /api/webhook/endpoints/{endpoint_id}": (ADMIN,),
    "DELETE /api/webhook/endpoints/{endpoint_id}": (ADMIN,),
    "POST /api/webhook/endpoints/{endpoint_id}/rotate-secret": (ADMIN,),
    "GET /api/webhook/endpoints/{endpoint_id}/deliveries": (ADMIN,),
    "POST /api/webhook/endpoints/{endpoint_id}/deliveries/{delivery_id}/resend": (ADMIN,),
}
