"""Companies for real accounts: unique names, search and pages, rename, delete with its events."""

import uuid

import pytest

from contracts import RequestCancelled
from testkit import bearer, eventually
from testkit.amqp import AmqpTap

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


async def add_company(portal, admin, name: str) -> dict:
    response = await portal.http.post("/api/portal/companies", json={"name": name}, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def test_duplicate_company_names_are_refused_with_a_sentence(portal, admin):
    name = unique("Wayne")
    first = await add_company(portal, admin, name)
    for again in (name, name.upper(), f"  {name.lower()} "):
        response = await portal.http.post("/api/portal/companies", json={"name": again}, headers=admin)
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "company_name_taken"
        assert response.json()["message"].startswith("A company named")
    other = await add_company(portal, admin, unique("Stark"))
    renamed = await portal.http.patch(
        f"/api/portal/companies/{other['company_id']}", json={"name": name.upper()}, headers=admin
    )
    assert renamed.status_code == 409 and renamed.json()["error"] == "company_name_taken"
    names = [c["name"] for c in (await portal.http.get("/api/portal/companies", headers=admin)).json()]
    assert names.count(first["name"]) == 1


async def test_companies_are_searched_and_paged_with_totals(portal, admin):
    tag = uuid.uuid4().hex[:6]
    for n in range(7):
        await add_company(portal, admin, f"Paged {tag} {n:02d}")
    first = (await portal.http.get(f"/api/portal/companies/search?q=paged {tag}&per_page=3", headers=admin)).json()
    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (7, 3, 1, 3)
    assert [c["name"] for c in first["items"]] == [f"Paged {tag} 00", f"Paged {tag} 01", f"Paged {tag} 02"]
    last = (
        await portal.http.get(f"/api/portal/companies/search?q={tag.upper()}&per_page=3&page=3", headers=admin)
    ).json()
    assert [c["name"] for c in last["items"]] == [f"Paged {tag} 06"]
    assert last["items"][0]["technician_count"] == 0 and last["items"][0]["portal_subdomain"] is None
    # Search text is text, not a pattern.
    none = (await portal.http.get("/api/portal/companies/search?q=.*", headers=admin)).json()
    assert none["total"] == 0 and none["items"] == []
    bad = await portal.http.get("/api/portal/companies/search?per_page=1000", headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]
    technicians = (await portal.http.get("/api/portal/technicians/search?q=ACME.test&per_page=2", headers=admin)).json()
    assert technicians["total"] >= 3 and len(technicians["items"]) == 2
    assert [t["name"] for t in technicians["items"]] == sorted(t["name"] for t in technicians["items"])


async def test_rename_shows_on_the_portal_page(portal, admin):
    company = await add_company(portal, admin, unique("Oscorp"))
    subdomain = f"osc{uuid.uuid4().hex[:6]}"
    created = await portal.http.post(
        "/api/portal/portals",
        json={"company_id": company["company_id"], "subdomain": subdomain, "mode": "web", "portal_type": "smart_box"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    new_name = unique("Oscorp Industries")
    renamed = await portal.http.patch(
        f"/api/portal/companies/{company['company_id']}", json={"name": new_name}, headers=admin
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == new_name
    public = await portal.http.get(f"/api/portal/public/portals/{subdomain}")
    assert public.json()["company_name"] == new_name
    missing = await portal.http.patch("/api/portal/companies/cmp_nothing", json={"name": "X"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["error"] == "company_not_found"


async def test_deleting_a_company_switches_its_portal_off_and_takes_it_from_every_technician(portal, admin):
    company = await add_company(portal, admin, unique("Cyberdyne"))
    company_id = company["company_id"]
    subdomain = f"cyb{uuid.uuid4().hex[:6]}"
    created = await portal.http.post(
        "/api/portal/portals",
        json={"company_id": company_id, "subdomain": subdomain, "mode": "queue", "portal_type": "smart_box"},
        headers=admin,
    )
    portal_id = created.json()["portal_id"]
    email = f"miles-{uuid.uuid4().hex[:6]}@acme.test"
    technician = await portal.http.post(
        "/api/portal/technicians",
        json={"name": "Miles", "email": email, "password": "miles-password", "company_ids": ["cmp_globex", company_id]},
        headers=admin,
    )
    technician_id = technician.json()["technician_id"]

    async with (
        AmqpTap(portal.rabbitmq_url, "technician.updated.*") as technicians,
        AmqpTap(portal.rabbitmq_url, "portal.configured.*") as portals,
    ):
        deleted = await portal.http.delete(f"/api/portal/companies/{company_id}", headers=admin)
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["portal_deactivated"] == subdomain and deleted.json()["technicians_updated"] == 1
        switched_off = await portals.wait_for(lambda m: m["data"]["portal_id"] == portal_id)
        assert switched_off["data"]["status"] == "inactive"
        update = await technicians.wait_for(lambda m: m["data"]["technician_id"] == technician_id)
        assert update["data"]["company_ids"] == ["cmp_globex"]

    listed = (await portal.http.get("/api/portal/companies", headers=admin)).json()
    assert company_id not in [c["company_id"] for c in listed]
    record = (await portal.http.get("/api/portal/technicians", headers=admin)).json()
    assert next(t for t in record if t["technician_id"] == technician_id)["company_ids"] == ["cmp_globex"]
    public = await portal.http.get(f"/api/portal/public/portals/{subdomain}")
    assert public.json()["view"] == "unavailable"
    again = await portal.http.delete(f"/api/portal/companies/{company_id}", headers=admin)
    assert again.status_code == 404
    technician_token = await portal.login(email, "miles-password")
    refused = await portal.http.delete("/api/portal/companies/cmp_globex", headers=bearer(technician_token))
    assert refused.status_code == 403


async def test_company_changes_publish_company_updated_and_a_deleted_name_is_free_again(portal, admin):
    name = unique("Tyrell")
    async with AmqpTap(portal.rabbitmq_url, "company.updated.*") as tap:
        company = await add_company(portal, admin, name)
        company_id = company["company_id"]
        created = await tap.wait_for(lambda m: m["data"]["company_id"] == company_id)
        assert (created["data"]["name"], created["data"]["revision"], created["data"]["deleted"]) == (name, 1, False)
        assert created["data"]["account_id"] == "acc_acme"
        renamed = await portal.http.patch(
            f"/api/portal/companies/{company_id}", json={"name": f"{name} Corp"}, headers=admin
        )
        assert renamed.status_code == 200, renamed.text
        rename = await tap.wait_for(lambda m: m["data"]["company_id"] == company_id and m["data"]["revision"] == 2)
        assert rename["data"]["name"] == f"{name} Corp"
        deleted = await portal.http.delete(f"/api/portal/companies/{company_id}", headers=admin)
        assert deleted.status_code == 200, deleted.text
        gone = await tap.wait_for(lambda m: m["data"]["company_id"] == company_id and m["data"]["deleted"])
        assert (gone["data"]["name"], gone["data"]["revision"]) == (f"{name} Corp", 3)
    # The tombstone carried the event and went once it was published.
    assert await portal.runtime.db["companies"].find_one({"_id": company_id}) is None
    again = await add_company(portal, admin, f"{name} Corp")
    assert again["company_id"] != company_id


async def test_a_deleted_companys_waiting_customer_is_told_why_the_request_ended(portal, admin):
    created = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    request = (await portal.submit(created["subdomain"])).json()
    path = f"/api/portal/requests/{request['request_id']}"

    async def status() -> dict:
        return (await portal.http.get(path, headers=bearer(request["token"]))).json()

    deleted = await portal.http.delete(f"/api/portal/companies/{created['company_id']}", headers=admin)
    assert deleted.status_code == 200, deleted.text
    # What dispatch publishes when it absorbs the deletion (dispatch-svc's own tests cover that).
    await portal.publish(
        RequestCancelled(
            request_id=request["request_id"],
            account_id="acc_acme",
            company_id=created["company_id"],
            reason="company_deleted",
            message="This company no longer offers support here. Your request was cancelled.",
        )
    )
    ended = await eventually(lambda: _status_is(status, "cancelled"), timeout=15, what="the request cancelled")
    assert ended["message"] == "This company no longer offers support here. Your request was cancelled."
    assert (ended["reason"], ended["cancellable"]) == ("company_deleted", False)


async def _status_is(probe, expected: str) -> dict | None:
    current = await probe()
    return current if current["status"] == expected else None
