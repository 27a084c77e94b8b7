"""Short-lived staff tokens with a refresh path, and staff routes that read the current record."""

import uuid
from datetime import timedelta

import pytest

from servicekit.auth import REFRESH, Principal, Role, issue_token, verify_token
from testkit import bearer
from testkit.amqp import AmqpTap
from testkit.plugin import DEV_SECRET

pytestmark = pytest.mark.integration


async def new_technician(portal, admin, company_ids: list[str], name: str = "Tess") -> tuple[str, str]:
    email = f"tess-{uuid.uuid4().hex[:8]}@acme.test"
    created = await portal.http.post(
        "/api/portal/technicians",
        json={"name": name, "email": email, "password": "tess-password", "company_ids": company_ids},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    return created.json()["technician_id"], email


async def refresh(portal, token: str):
    return await portal.http.post("/api/portal/auth/refresh", json={"refresh_token": token})


async def test_sign_in_gives_a_short_access_token_and_a_refresh_token(portal):
    signed_in = await portal.sign_in("ana@acme.test")
    assert signed_in["expires_in"] == 600
    access = verify_token(signed_in["token"], DEV_SECRET)
    assert (access.subject, access.role) == ("tec_ana", Role.TECHNICIAN)
    holder = verify_token(signed_in["refresh_token"], DEV_SECRET, kind=REFRESH)
    assert holder.subject == "tec_ana"
    # A refresh token is no access token, anywhere.
    refused = await portal.http.get("/api/portal/companies", headers=bearer(signed_in["refresh_token"]))
    assert refused.status_code == 401 and refused.json()["error"] == "wrong_token_kind"
    # ...and an access token buys no new pair.
    wrong_kind = await refresh(portal, signed_in["token"])
    assert wrong_kind.status_code == 401 and wrong_kind.json()["error"] == "wrong_token_kind"


async def test_refresh_builds_the_new_pair_from_the_current_record(portal, admin):
    company = (await portal.http.post("/api/portal/companies", json={"name": "Refreshed"}, headers=admin)).json()
    technician_id, email = await new_technician(portal, admin, ["cmp_globex", company["company_id"]])
    signed_in = await portal.sign_in(email, "tess-password")
    assert sorted(signed_in["company_ids"]) == sorted(["cmp_globex", company["company_id"]])
    changed = await portal.http.patch(
        f"/api/portal/technicians/{technician_id}", json={"company_ids": ["cmp_globex"], "name": "Tessa"}, headers=admin
    )
    assert changed.status_code == 200
    renewed = await refresh(portal, signed_in["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert set(body) == set(signed_in)
    assert (body["user_id"], body["role"], body["account_id"]) == (technician_id, "technician", "acc_acme")
    assert (body["name"], body["company_ids"], body["expires_in"]) == ("Tessa", ["cmp_globex"], 600)
    assert verify_token(body["token"], DEV_SECRET).company_ids == ["cmp_globex"]
    assert verify_token(body["refresh_token"], DEV_SECRET, kind=REFRESH).subject == technician_id
    again = await refresh(portal, body["refresh_token"])  # the new refresh token works in turn
    assert again.status_code == 200


async def test_a_removed_technician_gets_no_new_token_and_loses_staff_routes(portal, admin):
    technician_id, email = await new_technician(portal, admin, ["cmp_globex"])
    signed_in = await portal.sign_in(email, "tess-password")
    token = bearer(signed_in["token"])
    assert (await portal.http.get("/api/portal/auth/me", headers=token)).json()["company_ids"] == ["cmp_globex"]
    async with AmqpTap(portal.rabbitmq_url, "technician.updated.*") as tap:
        assert (await portal.http.delete(f"/api/portal/technicians/{technician_id}", headers=admin)).status_code == 200
        removed = await tap.wait_for(lambda m: m["data"]["technician_id"] == technician_id)
    assert (removed["data"]["enabled"], removed["data"]["revision"]) == (False, 2)
    refused = await refresh(portal, signed_in["refresh_token"])
    assert refused.status_code == 401
    assert refused.json() == {"error": "account_disabled", "message": "this account was removed or disabled"}
    # The access token has not expired yet, but routes that depend on the record refuse it now.
    for path in ("/api/portal/companies", "/api/portal/auth/me"):
        response = await portal.http.get(path, headers=token)
        assert response.status_code == 401 and response.json()["error"] == "account_disabled", path


async def test_a_technicians_companies_are_read_from_the_record_not_the_token(portal, admin):
    technician_id, email = await new_technician(portal, admin, ["cmp_globex", "cmp_initech"])
    token = bearer(await portal.login(email, "tess-password"))
    listed = await portal.http.get("/api/portal/companies", headers=token)
    assert {c["company_id"] for c in listed.json()} == {"cmp_globex", "cmp_initech"}
    async with AmqpTap(portal.rabbitmq_url, "technician.updated.*") as tap:
        await portal.http.patch(
            f"/api/portal/technicians/{technician_id}", json={"company_ids": ["cmp_globex"]}, headers=admin
        )
        changed = await tap.wait_for(lambda m: m["data"]["technician_id"] == technician_id)
    assert (changed["data"]["company_ids"], changed["data"]["enabled"]) == (["cmp_globex"], True)
    # Same token, issued with both companies: the answer follows the admin's change at once.
    assert [c["company_id"] for c in (await portal.http.get("/api/portal/companies", headers=token)).json()] == [
        "cmp_globex"
    ]
    assert (await portal.http.get("/api/portal/auth/me", headers=token)).json()["company_ids"] == ["cmp_globex"]


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
async def test_invalid_refresh_tokens_are_a_json_401(portal, token):
    response = await refresh(portal, token)
    assert response.status_code in (401, 422)
    assert set(response.json()) >= {"error", "message"}
    if token:
        assert response.status_code == 401


async def test_an_expired_refresh_token_is_refused(portal):
    expired = issue_token(
        Principal(subject="tec_ana", role=Role.TECHNICIAN, account_id="acc_acme"),
        DEV_SECRET,
        timedelta(seconds=-1),
        kind=REFRESH,
    )
    response = await refresh(portal, expired)
    assert response.status_code == 401 and response.json()["error"] == "token_expired"
