"""Two portal-svc replicas on one store: the per-address limits are ONE budget, whichever
replica each attempt reaches."""

import time
import uuid
from itertools import cycle

import httpx
import pytest

from testkit import eventually

pytestmark = pytest.mark.integration

LIMIT = 4


@pytest.fixture(scope="module")
async def replicas(start_portal):
    shared = {
        "mongodb_db": f"portal-replicas-{uuid.uuid4().hex[:8]}",
        "submission_limit": LIMIT,
        "login_limit": LIMIT,
        "refresh_limit": LIMIT,
        "login_window_seconds": 3600.0,
        "refresh_window_seconds": 3600.0,
    }
    async with start_portal(**shared) as first, start_portal(**shared) as second:
        yield first, second


def address() -> dict[str, str]:
    """A fresh client address (X-Forwarded-For), so tests do not share a budget."""
    octets = uuid.uuid4().bytes
    return {"X-Forwarded-For": f"10.{octets[0]}.{octets[1]}.{octets[2]}"}


def assert_refused(response: httpx.Response, what: str) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "rate_limited" and f"too many {what}" in body["message"]
    assert int(response.headers["Retry-After"]) >= 1


async def test_submissions_share_one_budget_across_replicas(replicas):
    client = address()
    turns = cycle(replicas)
    for _ in range(LIMIT):  # spread over both replicas
        accepted = await next(turns).submit_as(client, "globex")
        assert accepted.status_code == 201, accepted.text
    for replica in replicas:  # the next attempt is refused on either
        assert_refused(await replica.submit_as(client, "globex"), "submissions")
    # Another address has its own budget.
    assert (await replicas[1].submit_as(address(), "globex")).status_code == 201


async def test_sign_ins_share_one_budget_across_replicas(replicas):
    client = address()
    turns = cycle(replicas)
    for _ in range(LIMIT):
        wrong = await next(turns).http.post(
            "/api/portal/auth/login", json={"email": "admin@acme.test", "password": "guess-123"}, headers=client
        )
        assert wrong.status_code == 401, wrong.text
    for replica in replicas:
        right = await replica.http.post(
            "/api/portal/auth/login", json={"email": "admin@acme.test", "password": "demo-password"}, headers=client
        )
        assert_refused(right, "sign-in attempts")


async def test_refreshes_share_one_budget_across_replicas(replicas):
    client = address()
    signed_in = await replicas[0].http.post(
        "/api/portal/auth/login", json={"email": "admin@acme.test", "password": "demo-password"}, headers=address()
    )
    refresh_token = signed_in.json()["refresh_token"]
    turns = cycle(replicas)
    for _ in range(LIMIT):
        renewed = await next(turns).http.post(
            "/api/portal/auth/refresh", json={"refresh_token": refresh_token}, headers=client
        )
        assert renewed.status_code == 200, renewed.text
    for replica in replicas:
        refused = await replica.http.post(
            "/api/portal/auth/refresh", json={"refresh_token": refresh_token}, headers=client
        )
        assert_refused(refused, "refreshes")


async def test_a_portal_deactivated_on_one_replica_is_refused_by_the_other_within_the_bound(replicas):
    first, second = replicas
    signed_in = await first.http.post(
        "/api/portal/auth/login", json={"email": "admin@acme.test", "password": "demo-password"}, headers=address()
    )
    admin = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    assert (await second.submit_as(address(), "initech")).status_code == 201  # now cached by `second`
    deactivated = await first.http.post("/api/portal/portals/prt_initech/deactivate", headers=admin)
    assert deactivated.status_code == 200, deactivated.text
    started = time.monotonic()
    refused_here = await first.submit_as(address(), "initech")
    assert refused_here.status_code == 409 and refused_here.json()["error"] == "portal_unavailable"

    async def refused_there() -> bool:
        return (await second.submit_as(address(), "initech")).status_code == 409

    bound = second.runtime.settings.portal_cache_seconds
    await eventually(refused_there, timeout=bound + 2, every=0.2, what="the other replica sees the deactivation")
    assert time.monotonic() - started <= bound + 1.5
    await first.http.post("/api/portal/portals/prt_initech/activate", headers=admin)
