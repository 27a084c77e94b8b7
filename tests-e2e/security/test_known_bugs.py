"""Regression tests for bugs the security suite found (all fixed)."""

import time

import pytest
from secsupport import assert_error, bearer, client, submit

pytestmark = pytest.mark.e2e


async def test_listing_sessions_by_state_never_fails_after_a_cancellation(system, victim):
    submitted = await submit(system, victim.portals["queue"]["subdomain"])
    async with client(system) as http:
        cancelled = await http.post(
            f"/api/portal/requests/{submitted['request_id']}/cancel", headers=bearer(submitted["token"])
        )
        assert cancelled.status_code == 200, cancelled.text
        # chat-svc writes its marker when the RequestCancelled event reaches it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for token in (victim.admin_token, victim.technicians["owner"]["token"]):
                for state in (None, "active", "completed"):
                    params = {"state": state} if state else {}
                    listed = await http.get("/api/chat/sessions", params=params, headers=bearer(token))
                    assert listed.status_code == 200, listed.text
                    assert all(s["request_id"] != submitted["request_id"] for s in listed.json()["sessions"])
                # Cancelled requests never had a chat: asking for them is a clear 422, not a 500.
                refused = await http.get("/api/chat/sessions", params={"state": "cancelled"}, headers=bearer(token))
                assert_error(refused, 422, "validation_failed")


async def test_a_body_under_the_size_limit_reaches_the_service(system):
    async with client(system) as http:
        response = await http.post(
            "/api/portal/auth/login", json={"email": "someone@example.test", "password": "p" * 20_000}
        )
    assert_error(response, 422, "validation_failed")
