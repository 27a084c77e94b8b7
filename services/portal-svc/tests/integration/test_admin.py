"""Sign-in, admin-only configuration, portal rules, tenant isolation, embed code."""

import asyncio
import uuid

import pytest

from servicekit.auth import Role, verify_token
from testkit import bearer
from testkit.amqp import AmqpTap
from testkit.plugin import DEV_SECRET, make_token

pytestmark = pytest.mark.integration


async def test_sign_in_issues_role_scoped_tokens(portal):
    response = await portal.http.post(
        "/api/portal/auth/login", json={"email": "ANA@acme.test", "password": "demo-password"}
    )
    assert response.status_code == 200
    principal = verify_token(response.json()["token"], DEV_SECRET)
    assert (principal.role, principal.subject, principal.account_id) == (Role.TECHNICIAN, "tec_ana", "acc_acme")
    assert sorted(principal.company_ids) == ["cmp_globex", "cmp_initech"]
    wrong = await portal.http.post("/api/portal/auth/login", json={"email": "ana@acme.test", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_credentials", "message": "invalid e-mail or password"}
    stored = await portal.runtime.db["users"].find_one({"_id": "tec_ana"})
    assert stored["password_hash"].startswith("$argon2id$")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/portal/portals"),
        ("post", "/api/portal/portals"),
        ("patch", "/api/portal/portals/prt_globex"),
        ("get", "/api/portal/portals/prt_globex/embed"),
        ("post", "/api/portal/companies"),
        ("post", "/api/portal/technicians"),
        ("delete", "/api/portal/technicians/tec_ben"),
    ],
)
async def test_configuration_is_admin_only(portal, method, path):
    technician = await portal.login("ben@acme.test")
    customer = make_token(Role.CUSTOMER, subject="req_x", account_id="acc_acme", request_id="req_x")
    anonymous = await portal.http.request(method, path, json={})
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing_token"
    for token in (technician, customer):
        refused = await portal.http.request(method, path, json={}, headers=bearer(token))
        assert refused.status_code == 403 and refused.json()["error"] == "wrong_role"
    forged = await portal.http.request(
        method,
        path,
        json={},
        headers=bearer(make_token(Role.ADMIN, subject="x", secret="other-secret-of-32-bytes-at-least!")),
    )
    assert forged.status_code == 401


async def test_technicians_list_only_the_companies_they_can_access(portal, admin):
    everything = {c["company_id"] for c in (await portal.http.get("/api/portal/companies", headers=admin)).json()}
    ben = await portal.login("ben@acme.test")
    visible = (await portal.http.get("/api/portal/companies", headers=bearer(ben))).json()
    assert {c["company_id"] for c in visible} == {"cmp_globex"}
    assert visible[0]["name"] == "Globex"
    assert {"cmp_globex", "cmp_initech"} <= everything


async def test_portal_lifecycle_publishes_full_snapshots_with_increasing_revisions(portal, admin):
    async with AmqpTap(portal.rabbitmq_url, "portal.configured.*") as tap:
        created = await portal.new_portal(admin, mode="web", portal_type="smart_button")
        first = await tap.wait_for(lambda m: m["data"]["portal_id"] == created["portal_id"])
        assert first["data"]["revision"] == 1 and first["data"]["status"] == "active"
        edited = await portal.http.patch(
            f"/api/portal/portals/{created['portal_id']}",
            json={"mode": "queue", "portal_type": "smart_box"},
            headers=admin,
        )
        assert edited.status_code == 200 and edited.json()["revision"] == 2
        await tap.wait_for(lambda m: m["data"]["portal_id"] == created["portal_id"] and m["data"]["revision"] == 2)
        off = await portal.http.post(f"/api/portal/portals/{created['portal_id']}/deactivate", headers=admin)
        assert off.json()["status"] == "inactive"
        third = await tap.wait_for(
            lambda m: m["data"]["portal_id"] == created["portal_id"] and m["data"]["revision"] == 3
        )
        assert (third["data"]["mode"], third["data"]["status"]) == ("queue", "inactive")
    listed = (await portal.http.get("/api/portal/portals", headers=admin)).json()
    assert created["portal_id"] in {p["portal_id"] for p in listed}


async def test_portal_rules(portal, admin):
    created = await portal.new_portal(admin, mode="web", portal_type="smart_box")
    again = await portal.http.post(
        "/api/portal/portals",
        json={
            "company_id": created["company_id"],
            "subdomain": f"x-{uuid.uuid4().hex[:6]}",
            "mode": "phone",
            "portal_type": "smart_pin",
        },
        headers=admin,
    )
    assert again.status_code == 409 and again.json()["error"] == "company_has_portal"
    company = (await portal.http.post("/api/portal/companies", json={"name": "Rules"}, headers=admin)).json()

    async def attempt(**fields):
        body = {
            "company_id": company["company_id"],
            "subdomain": f"r-{uuid.uuid4().hex[:6]}",
            "mode": "web",
            "portal_type": "smart_box",
            **fields,
        }
        return await portal.http.post("/api/portal/portals", json=body, headers=admin)

    taken = await attempt(subdomain="globex")
    assert taken.status_code == 409 and taken.json() == {
        "error": "subdomain_taken",
        "message": "subdomain already in use",
    }
    for label in ("-bad", "bad-", "has_underscore", "a" * 64, "dots.not.allowed", "Upper"):
        bad = await attempt(subdomain=label)
        assert bad.status_code == 422, label
    for mode, kind in (
        ("phone", "smart_box"),
        ("queue", "smart_match"),
        ("web", "smart_pin"),
        ("queue", "smart_button"),
    ):
        combo = await attempt(mode=mode, portal_type=kind)
        assert combo.status_code == 422 and combo.json()["error"] == "invalid_portal_type"
    assert (await attempt(mode="fax")).status_code == 422
    assert (await attempt(allowed_origins=["javascript:alert(1)"])).json()["error"] == "invalid_origin"
    assert (await attempt(allowed_origins=["https://x.test/path"])).status_code == 422
    assert (await attempt(unexpected="field")).status_code == 422
    assert (await attempt(company_id="cmp_nope")).status_code == 404
    edit_taken = await portal.http.patch(
        f"/api/portal/portals/{created['portal_id']}", json={"subdomain": "initech"}, headers=admin
    )
    assert edit_taken.status_code == 409 and edit_taken.json()["message"] == "subdomain already in use"
    bad_edit = await portal.http.patch(
        f"/api/portal/portals/{created['portal_id']}", json={"mode": "phone"}, headers=admin
    )
    assert bad_edit.status_code == 422


async def test_subdomain_is_unique_under_concurrent_creation(portal, admin):
    companies = [
        (await portal.http.post("/api/portal/companies", json={"name": f"Race {i}"}, headers=admin)).json()[
            "company_id"
        ]
        for i in range(5)
    ]
    subdomain = f"race-{uuid.uuid4().hex[:6]}"
    results = await asyncio.gather(
        *(
            portal.http.post(
                "/api/portal/portals",
                json={"company_id": c, "subdomain": subdomain, "mode": "web", "portal_type": "smart_box"},
                headers=admin,
            )
            for c in companies
        )
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409, 409]
    assert {r.json()["error"] for r in results if r.status_code == 409} == {"subdomain_taken"}


async def test_an_admin_never_sees_nor_changes_another_accounts_portals(portal, admin):
    email = f"boss-{uuid.uuid4().hex[:6]}@other.test"
    signup = await portal.http.post(
        "/api/portal/accounts",
        json={"account_name": "Other Co", "admin_name": "Boss", "admin_email": email, "admin_password": "password-b"},
        headers=portal.client_ip(),
    )
    assert signup.status_code == 201
    other = bearer(await portal.login(email, "password-b"))
    assert (await portal.http.get("/api/portal/portals", headers=other)).json() == []
    assert (await portal.http.get("/api/portal/companies", headers=other)).json() == []
    for method, path, body in (
        ("get", "/api/portal/portals/prt_globex", None),
        ("patch", "/api/portal/portals/prt_globex", {"status": "inactive"}),
        ("post", "/api/portal/portals/prt_globex/deactivate", None),
        ("get", "/api/portal/portals/prt_globex/embed", None),
        ("patch", "/api/portal/technicians/tec_ana", {"capacity": 1}),
    ):
        response = await portal.http.request(method, path, json=body, headers=other)
        assert response.status_code == 404, (method, path)
    stolen = await portal.http.post(
        "/api/portal/portals",
        json={
            "company_id": "cmp_globex",
            "subdomain": f"s-{uuid.uuid4().hex[:6]}",
            "mode": "web",
            "portal_type": "smart_box",
        },
        headers=other,
    )
    assert stolen.status_code == 404
    assert (await portal.http.get("/api/portal/portals/prt_globex", headers=admin)).json()["status"] == "active"
    duplicate = await portal.http.post(
        "/api/portal/accounts",
        json={"account_name": "Again", "admin_name": "Boss", "admin_email": email, "admin_password": "password-b"},
        headers=portal.client_ip(),
    )
    assert duplicate.status_code == 409


async def test_technician_changes_publish_technician_updated(portal, admin):
    email = f"dan-{uuid.uuid4().hex[:6]}@acme.test"
    async with AmqpTap(portal.rabbitmq_url, "technician.updated.*") as tap:
        created = await portal.http.post(
            "/api/portal/technicians",
            json={"name": "Dan", "email": email, "password": "dan-password", "company_ids": ["cmp_globex"]},
            headers=admin,
        )
        assert created.status_code == 201
        technician_id = created.json()["technician_id"]
        first = await tap.wait_for(lambda m: m["data"]["technician_id"] == technician_id)
        assert (first["data"]["capacity"], first["data"]["enabled"], first["data"]["revision"]) == (3, True, 1)
        changed = await portal.http.patch(
            f"/api/portal/technicians/{technician_id}",
            json={"capacity": 5, "company_ids": ["cmp_globex", "cmp_initech"], "name": "Daniel"},
            headers=admin,
        )
        assert changed.json()["revision"] == 2
        second = await tap.wait_for(
            lambda m: m["data"]["technician_id"] == technician_id and m["data"]["revision"] == 2
        )
        assert (second["data"]["display_name"], second["data"]["capacity"]) == ("Daniel", 5)
        assert sorted(second["data"]["company_ids"]) == ["cmp_globex", "cmp_initech"]
        removed = await portal.http.delete(f"/api/portal/technicians/{technician_id}", headers=admin)
        assert removed.json()["enabled"] is False
        third = await tap.wait_for(lambda m: m["data"]["technician_id"] == technician_id and m["data"]["revision"] == 3)
        assert third["data"]["enabled"] is False
    refused = await portal.http.post("/api/portal/auth/login", json={"email": email, "password": "dan-password"})
    assert refused.status_code == 401
    unknown = await portal.http.post(
        "/api/portal/technicians",
        json={
            "name": "Eve",
            "email": f"e{uuid.uuid4().hex[:6]}@a.test",
            "password": "eve-password",
            "company_ids": ["cmp_elsewhere"],
        },
        headers=admin,
    )
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_company"
    taken = await portal.http.post(
        "/api/portal/technicians",
        json={"name": "Ana 2", "email": "ana@acme.test", "password": "whatever-pw"},
        headers=admin,
    )
    assert taken.status_code == 409 and taken.json()["error"] == "email_taken"


async def test_embed_code_and_frame_ancestors(portal, admin):
    created = await portal.new_portal(
        admin, mode="web", portal_type="smart_box", allowed_origins=["https://www.shop.test", "http://localhost:3000/"]
    )
    code = (await portal.http.get(f"/api/portal/portals/{created['portal_id']}/embed", headers=admin)).json()
    sub = created["subdomain"]
    assert code["standalone_url"] == f"http://support.test:8080/p/{sub}"
    assert f'href="http://support.test:8080/p/{sub}"' in code["popup_snippet"]
    assert "window.open(this.href" in code["popup_snippet"]
    assert f'<div id="assistline-portal-{sub}"' in code["embed_snippet"]
    assert f'<script src="http://support.test:8080/api/portal/embed.js" data-portal="{sub}"' in code["embed_snippet"]
    assert code["allowed_origins"] == ["https://www.shop.test", "http://localhost:3000"]
    page = await portal.http.get(f"/p/{sub}?embed=1")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://www.shop.test http://localhost:3000" in csp
    script = await portal.http.get("/api/portal/embed.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "?embed=1" in script.text and "iframe" in script.text
    await portal.http.patch(f"/api/portal/portals/{created['portal_id']}", json={"allowed_origins": []}, headers=admin)
    locked = await portal.http.get(f"/p/{sub}")
    assert locked.headers["content-security-policy"].endswith("frame-ancestors 'self'")
