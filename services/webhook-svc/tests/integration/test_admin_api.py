"""The admin API: an account sees and changes only its own endpoints; bad input is a clear JSON error."""

from servicekit.auth import Role
from testkit import bearer
from testkit.plugin import make_token


async def test_endpoints_are_listed_changed_and_deleted_within_the_account_only(hooks, receiver):
    mine, theirs = hooks.account(), hooks.account()
    endpoint_id, _ = await hooks.register(mine, receiver)
    listed = (await hooks.http.get("/endpoints", headers=hooks.admin(mine))).json()["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [endpoint_id]
    assert "secret" not in listed[0]
    assert (await hooks.http.get("/endpoints", headers=hooks.admin(theirs))).json()["endpoints"] == []

    for method, path in [
        ("GET", f"/endpoints/{endpoint_id}"),
        ("PATCH", f"/endpoints/{endpoint_id}"),
        ("DELETE", f"/endpoints/{endpoint_id}"),
        ("POST", f"/endpoints/{endpoint_id}/rotate-secret"),
        ("GET", f"/endpoints/{endpoint_id}/deliveries"),
    ]:
        response = await hooks.http.request(method, path, json={"enabled": False}, headers=hooks.admin(theirs))
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "endpoint_not_found"
    assert (await hooks.endpoint(mine, endpoint_id))["enabled"] is True  # untouched by the other admin

    changed = await hooks.http.patch(
        f"/endpoints/{endpoint_id}",
        json={"event_types": ["ChatSessionEnded"], "description": "CRM", "enabled": False},
        headers=hooks.admin(mine),
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["event_types"], body["description"], body["enabled"], body["disabled_reason"]) == (
        ["ChatSessionEnded"],
        "CRM",
        False,
        "admin",
    )
    deleted = await hooks.http.delete(f"/endpoints/{endpoint_id}", headers=hooks.admin(mine))
    assert deleted.status_code == 204
    assert (await hooks.http.get(f"/endpoints/{endpoint_id}", headers=hooks.admin(mine))).status_code == 404


async def test_only_admins_may_manage_webhooks(hooks):
    technician = bearer(make_token(Role.TECHNICIAN, subject="tec_ana", account_id="acc_x"))
    response = await hooks.http.get("/endpoints", headers=technician)
    assert response.status_code == 403 and response.json()["error"] == "wrong_role"
    anonymous = await hooks.http.get("/endpoints")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing_token"


async def test_bad_input_is_a_422_saying_what_is_wrong(hooks, receiver):
    admin = hooks.admin(hooks.account())
    cases = [
        ({"url": "ftp://example.com/h", "event_types": ["RequestSubmitted"]}, "https_required"),
        ({"url": receiver.url, "event_types": ["NoSuchEvent"]}, "unknown_event_type"),
        ({"url": receiver.url, "event_types": []}, "validation_failed"),
        ({"url": "https://nowhere.invalid/h", "event_types": ["RequestSubmitted"]}, "unresolvable_host"),
        ({"event_types": ["RequestSubmitted"]}, "validation_failed"),
    ]
    for body, code in cases:
        response = await hooks.http.post("/endpoints", json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"] == code, (body, response.text)
        assert response.json()["message"]


async def test_the_event_types_offered_cover_the_request_and_chat_lifecycle(hooks):
    response = await hooks.http.get("/event-types", headers=hooks.admin(hooks.account()))
    offered = set(response.json()["event_types"])
    assert {
        "RequestSubmitted",
        "RequestOffered",
        "RequestOfferWithdrawn",
        "RequestQueued",
        "RequestAssigned",
        "RequestRejected",
        "RequestCancelled",
        "ChatSessionStarted",
        "ChatSessionEnded",
    } <= offered
