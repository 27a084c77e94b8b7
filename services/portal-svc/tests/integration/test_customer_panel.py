"""The technician's customer panel: the request, its portal, and the same customer's earlier
requests — only for companies the technician can access now."""

import uuid

import pytest

from testkit import bearer, eventually

pytestmark = pytest.mark.integration


async def test_the_panel_shows_earlier_requests_of_the_same_email_to_technicians_with_access(portal, admin):
    email = f"gus-{uuid.uuid4().hex[:6]}@example.com"
    ids = []
    for problem in ("The printer is jammed.", "The printer is jammed again.", "Now the scanner too."):
        response = await portal.submit(
            "initech", customer_name="Gus", customer_email=email.upper(), description=problem
        )
        assert response.status_code in (200, 201, 202), response.text
        ids.append(response.json()["request_id"])
    other_company = await portal.new_portal(admin, mode="queue", portal_type="smart_box")
    elsewhere = await portal.submit(other_company["subdomain"], customer_name="Gus", customer_email=email)
    assert elsewhere.status_code in (200, 201, 202), elsewhere.text

    ana = bearer(await portal.login("ana@acme.test"))

    async def panel_with_history():
        answer = await portal.http.get(f"/api/portal/requests/{ids[-1]}/customer", headers=ana)
        body = answer.json()
        return body if answer.status_code == 200 and len(body["earlier"]) == 2 else None

    panel = await eventually(panel_with_history, timeout=30, what="the panel lists both earlier requests")
    assert (panel["customer_name"], panel["customer_email"]) == ("Gus", email)
    assert (panel["portal_subdomain"], panel["company_name"]) == ("initech", "Initech")
    assert panel["description"] == "Now the scanner too."
    # Newest first; the request to a company Ana cannot access is not shown.
    assert [e["request_id"] for e in panel["earlier"]] == [ids[1], ids[0]]
    assert panel["earlier"][0]["description"] == "The printer is jammed again."

    ben = bearer(await portal.login("ben@acme.test"))  # Globex only
    refused = await portal.http.get(f"/api/portal/requests/{ids[-1]}/customer", headers=ben)
    assert refused.status_code == 403 and refused.json()["error"] == "company_forbidden"
    missing = await portal.http.get("/api/portal/requests/req_nothing/customer", headers=ana)
    assert missing.status_code == 404
