"""The availability read model: company lists follow `TechnicianUpdated` (by revision),
availability follows presence (by sequence); a late presence event restores nothing."""

import uuid

import pytest

from contracts import TechnicianAvailable, TechnicianUpdated
from testkit import eventually

pytestmark = pytest.mark.integration


async def listed(portal, subdomain: str) -> set[str]:
    shown = (await portal.http.get(f"/api/portal/public/portals/{subdomain}")).json()
    return {t["technician_id"] for t in shown["technicians"]}


async def new_technician(portal, admin, company_ids: list[str], name: str) -> str:
    created = await portal.http.post(
        "/api/portal/technicians",
        json={
            "name": name,
            "email": f"{uuid.uuid4().hex[:8]}@acme.test",
            "password": "tech-password",
            "company_ids": company_ids,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return created.json()["technician_id"]


def available(technician_id: str, company_ids: list[str], sequence: int, name: str = "Val") -> TechnicianAvailable:
    return TechnicianAvailable(
        technician_id=technician_id,
        account_id="acc_acme",
        display_name=name,
        company_ids=company_ids,
        capacity=3,
        sequence=sequence,
    )


async def test_a_late_technician_available_does_not_restore_a_removed_company_or_capacity(portal, admin):
    x = await portal.new_portal(admin, mode="web", portal_type="smart_match")
    y = await portal.new_portal(admin, mode="web", portal_type="smart_match")
    both = [x["company_id"], y["company_id"]]
    val = await new_technician(portal, admin, both, "Val")
    await portal.publish(available(val, both, sequence=1))
    await eventually(lambda: _shows(portal, y["subdomain"], val), what="Val listed for Y")
    assert val in await listed(portal, x["subdomain"])

    # The admin's removal of Y reaches the read model (revision 2)...
    await portal.publish(
        TechnicianUpdated(
            technician_id=val,
            account_id="acc_acme",
            display_name="Val",
            company_ids=[x["company_id"]],
            capacity=7,
            enabled=True,
            revision=2,
        )
    )
    await eventually(lambda: _hides(portal, y["subdomain"], val), what="Val no longer listed for Y")
    # ...then a TechnicianAvailable built before it (listing Y, capacity 3) arrives late.
    await portal.publish(available(val, both, sequence=2))
    # Barrier: a later message on the same queue has been absorbed, so the late one was too.
    wes = await new_technician(portal, admin, [y["company_id"]], "Wes")
    await portal.publish(available(wes, [y["company_id"]], sequence=1, name="Wes"))
    await eventually(lambda: _shows(portal, y["subdomain"], wes), what="Wes listed for Y")

    assert val not in await listed(portal, y["subdomain"])
    assert val in await listed(portal, x["subdomain"])
    record = await portal.runtime.db["availability"].find_one({"_id": val})
    assert (record["company_ids"], record["capacity"], record["revision"], record["sequence"]) == (
        [x["company_id"]],
        7,
        2,
        2,
    )


async def test_an_older_technician_record_does_not_overwrite_a_newer_one(portal, admin):
    company = await portal.new_portal(admin, mode="web", portal_type="smart_match")
    other = await portal.new_portal(admin, mode="web", portal_type="smart_match")
    ida = await new_technician(portal, admin, [company["company_id"]], "Ida")
    await portal.publish(available(ida, [company["company_id"]], sequence=1, name="Ida"))
    await eventually(lambda: _shows(portal, company["subdomain"], ida))
    moved = await portal.http.patch(
        f"/api/portal/technicians/{ida}",
        json={"company_ids": [company["company_id"], other["company_id"]]},
        headers=admin,
    )
    assert moved.json()["revision"] == 2
    await eventually(lambda: _shows(portal, other["subdomain"], ida), what="Ida listed for the added company")
    # A redelivered revision 1 (one company only) is stale.
    handlers = portal.handlers
    stale = TechnicianUpdated(
        technician_id=ida,
        account_id="acc_acme",
        display_name="Ida",
        company_ids=[company["company_id"]],
        capacity=3,
        enabled=True,
        revision=1,
    )
    assert await handlers.availability.technician_updated(stale) is False
    assert ida in await listed(portal, other["subdomain"])


async def _shows(portal, subdomain: str, technician_id: str) -> bool:
    return technician_id in await listed(portal, subdomain)


async def _hides(portal, subdomain: str, technician_id: str) -> bool:
    return technician_id not in await listed(portal, subdomain)
