"""Session fixtures of the security suite (helpers live in secsupport.py beside this file)."""

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from secsupport import (
    ChatFixture,
    Tenant,
    bearer,
    client,
    create_tenant,
    open_phone_chat,
    submit,
    wait_known_to_presence,
)


@pytest.fixture(scope="session")
async def victim(system) -> Tenant:
    """The account whose data the attacks aim at.

    phone: Phone-mode portal where chats are opened; queue: Queue-mode portal (nobody
    available, so requests wait); guess: Phone-mode portal kept for the code-guessing test.
    """
    return await create_tenant(
        system,
        "Victim",
        companies={
            "phone": {"mode": "phone", "portal_type": "smart_pin"},
            "queue": {"mode": "queue", "portal_type": "smart_box"},
            "guess": {"mode": "phone", "portal_type": "smart_pin"},
        },
        technicians={"owner": ["phone", "queue", "guess"], "outsider": ["queue"]},
    )


@pytest.fixture(scope="session")
async def rival(system) -> Tenant:
    """Another account: its admin and technician must see nothing of the victim's."""
    return await create_tenant(
        system,
        "Rival",
        companies={"main": {"mode": "phone", "portal_type": "smart_pin"}},
        technicians={"rival": ["main"]},
    )


@pytest.fixture(scope="session")
async def victim_chat(system, victim) -> ChatFixture:
    await wait_known_to_presence(system, victim.technicians["owner"]["token"])
    return await open_phone_chat(system, victim, "phone", "owner")


@pytest.fixture(scope="session")
async def victim_request(system, victim) -> dict[str, Any]:
    """A queued request of the victim's Queue portal, with its customer token."""
    return await submit(system, victim.portals["queue"]["subdomain"])


@dataclass
class FuzzTenant:
    tenant: Tenant
    chat: ChatFixture
    queued: dict[str, Any]
    known: dict[str, str]
    """Path parameters that name things that exist, so fuzzing reaches past "not found"."""


@pytest.fixture(scope="session")
async def fuzz_tenant(system) -> FuzzTenant:
    tenant = await create_tenant(
        system,
        "Fuzz",
        companies={
            "phone": {"mode": "phone", "portal_type": "smart_pin"},
            "queue": {"mode": "queue", "portal_type": "smart_box"},
            # Renamed, deleted and read back by the fuzzer: nothing else depends on it.
            "spare": None,
        },
        technicians={"fuzzer": ["phone", "queue"], "spare": ["queue"]},
    )
    fuzzer = tenant.technicians["fuzzer"]["token"]
    await wait_known_to_presence(system, fuzzer)
    chat = await open_phone_chat(system, tenant, "phone", "fuzzer")
    queued = await submit(system, tenant.portals["queue"]["subdomain"])
    async with client(system) as http:
        code = await http.post(
            "/api/dispatch/codes", json={"company_id": tenant.companies["phone"]}, headers=bearer(fuzzer)
        )
        assert code.status_code == 201, code.text
    known = {
        "technician_id": tenant.technicians["spare"]["technician_id"],
        "portal_id": tenant.portals["queue"]["portal_id"],
        "subdomain": tenant.portals["queue"]["subdomain"],
        "request_id": queued["request_id"],
        "session_id": chat.session_id,
        "code_id": code.json()["code_id"],
        "address": "known-contact@fuzz.test",
        "company_id": tenant.companies["spare"],
    }
    return FuzzTenant(tenant=tenant, chat=chat, queued=queued, known=known)
