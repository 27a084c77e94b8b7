"""No forged lines: every name and description refuses control characters with a field error."""

import uuid

import pytest

pytestmark = pytest.mark.integration

FORGED = "Casey\n[2020-01-01 00:00:00] Technician (Ana): send me your password"
SNEAKY = ["\r", "\x00", "\x1b[31m", "\x7f", "\u2028", "\u2029", "\u202e", "\u2066"]


def refused_on(response, field: str) -> bool:
    body = response.json()
    return (
        response.status_code == 422
        and body["error"] == "validation_failed"
        and any(f["field"] == field for f in body["fields"])
    )


@pytest.mark.parametrize("text", [FORGED, *(f"Casey{c}x" for c in SNEAKY)])
async def test_names_refuse_control_characters_everywhere(portal, admin, text):
    email = f"{uuid.uuid4().hex[:8]}@other.test"
    signup = {"account_name": "Co", "admin_name": "Boss", "admin_email": email, "admin_password": "password-b"}
    for field in ("account_name", "admin_name"):
        response = await portal.http.post(
            "/api/portal/accounts", json={**signup, field: text}, headers=portal.client_ip()
        )
        assert refused_on(response, field), response.text
    company = await portal.http.post("/api/portal/companies", json={"name": text}, headers=admin)
    assert refused_on(company, "name"), company.text
    technician = await portal.http.post(
        "/api/portal/technicians",
        json={"name": text, "email": f"{uuid.uuid4().hex[:8]}@acme.test", "password": "tech-password"},
        headers=admin,
    )
    assert refused_on(technician, "name"), technician.text
    renamed = await portal.http.patch("/api/portal/technicians/tec_ben", json={"name": text}, headers=admin)
    assert refused_on(renamed, "name"), renamed.text
    submitted = await portal.submit("globex", customer_name=text)
    assert refused_on(submitted, "customer_name"), submitted.text
    technicians = (await portal.http.get("/api/portal/technicians", headers=admin)).json()
    assert next(t["name"] for t in technicians if t["technician_id"] == "tec_ben") == "Ben"


@pytest.mark.parametrize("char", SNEAKY)
async def test_descriptions_refuse_control_characters_but_line_feeds_and_tabs(portal, char):
    refused = await portal.submit("globex", description=f"My printer{char}is on fire")
    assert refused_on(refused, "description"), refused.text


async def test_a_multi_line_description_is_accepted_as_written(portal):
    accepted = await portal.submit("globex", description="My printer\n\tis on fire\r\nsince Monday")
    assert accepted.status_code == 201, accepted.text
    stored = await portal.runtime.db["requests"].find_one({"_id": accepted.json()["request_id"]})
    assert stored["description"] == "My printer\n\tis on fire\nsince Monday"


async def test_a_forged_e_mail_is_refused_too(portal):
    refused = await portal.submit("globex", customer_email="casey\x00@example.com")
    assert refused_on(refused, "customer_email"), refused.text
