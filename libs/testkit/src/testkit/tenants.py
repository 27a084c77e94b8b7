"""Accounts a test makes for itself through the public API: admin, companies, portals, technicians.

Everything a suite provisions lives in an account of its own, so the demo account (and other
suites sharing the system) stay untouched.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from testkit.http import bearer, client
from testkit.waiting import eventually

PASSWORD = "testkit-password"
PORTAL_TYPES = {"web": "smart_box", "queue": "smart_box", "phone": "smart_pin"}
"""The portal type each routing mode usually comes with."""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Tenant:
    """An account made by a test: its admin, companies, portals and technicians."""

    name: str
    account_id: str
    admin: dict[str, Any]  # the admin's login answer (token, user_id, ...)
    password: str
    capacity: int
    companies: dict[str, str] = field(default_factory=dict)  # label -> company id
    portals: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> PortalOut
    technicians: dict[str, dict[str, Any]] = field(default_factory=dict)
    """label -> TechnicianOut plus `token` and `login` (the technician's login answer)."""
    admin_email: str = ""
    """The admin's sign-in e-mail (for signing in through a browser)."""

    @property
    def admin_token(self) -> str:
        return str(self.admin["token"])

    @property
    def logins(self) -> list[dict[str, Any]]:
        return [technician["login"] for technician in self.technicians.values()]

    def portals_of_mode(self, mode: str) -> list[tuple[str, str]]:
        """(subdomain, company id) of every portal routing in `mode`, in creation order."""
        return [(p["subdomain"], p["company_id"]) for p in self.portals.values() if p["mode"] == mode]


def portals_per_mode(modes: dict[str, int]) -> dict[str, dict[str, Any]]:
    """`{"queue": 2}` → companies `queue0`, `queue1`, each with a Queue-mode portal."""
    return {
        f"{mode}{index}": {"mode": mode, "portal_type": PORTAL_TYPES[mode]}
        for mode, count in modes.items()
        for index in range(count)
    }


async def sign_in(gateway: str, email: str, password: str) -> dict[str, Any]:
    """The login answer (token, user_id, ...); each sign-in from its own loopback address,
    so provisioning never uses up the per-address sign-in allowance of a test."""
    async with client(gateway) as http:
        response = await http.post("/api/portal/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def provision_tenant(
    gateway: str,
    name: str,
    *,
    companies: Mapping[str, Mapping[str, Any] | None],
    technicians: dict[str, list[str]] | int,
    capacity: int = 3,
    password: str = PASSWORD,
) -> Tenant:
    """A fresh account on the system behind `gateway` (a base URL).

    `companies`: label -> portal settings (mode, portal_type[, status, ...]) or None for a
    company without a portal (see `portals_per_mode`); `technicians`: label -> labels of the
    companies they can access, or a number of technicians (`tec0`, ...) who access them all.
    """
    if isinstance(technicians, int):
        technicians = {f"tec{index}": list(companies) for index in range(technicians)}
    domain = re.sub(r"[^a-z0-9]", "", name.lower()) or "tenant"
    email = f"{unique('admin')}@{domain}.test"
    async with client(gateway) as http:
        signup = {"account_name": name, "admin_name": f"{name} Admin", "admin_email": email, "admin_password": password}
        created = await http.post("/api/portal/accounts", json=signup)
        assert created.status_code == 201, created.text
        admin = await sign_in(gateway, email, password)
        tenant = Tenant(name, created.json()["account_id"], admin, password, capacity, admin_email=email)
        headers = bearer(tenant.admin_token)
        for label, portal in companies.items():
            company = await http.post("/api/portal/companies", json={"name": f"{name} {label}"}, headers=headers)
            assert company.status_code == 201, company.text
            tenant.companies[label] = company.json()["company_id"]
            if portal is not None:
                subdomain = unique(re.sub(r"[^a-z0-9]", "", label.lower())[:20] or "portal")
                body = {"company_id": tenant.companies[label], "subdomain": subdomain, **portal}
                made = await http.post("/api/portal/portals", json=body, headers=headers)
                assert made.status_code == 201, made.text
                tenant.portals[label] = made.json()
        for label, access in technicians.items():
            tech_email = f"{unique(label.lower())}@{domain}.test"
            body = {
                "name": label,
                "email": tech_email,
                "password": password,
                "company_ids": [tenant.companies[c] for c in access],
                "capacity": capacity,
            }
            made = await http.post("/api/portal/technicians", json=body, headers=headers)
            assert made.status_code == 201, made.text
            login = await sign_in(gateway, tech_email, password)
            tenant.technicians[label] = {**made.json(), "token": login["token"], "login": login}
    return tenant


async def wait_known_to_presence(gateway: str, token: str, *, timeout: float = 20.0) -> None:
    """presence-svc learns technicians from events: waits until it answers for this one."""

    async def known() -> bool:
        async with client(gateway, token=token) as http:
            try:
                return (await http.get("/api/presence/me")).status_code == 200
            except httpx.TransportError:
                return False

    await eventually(known, timeout=timeout, what="presence-svc knows the technician")
