"""The documented rate limits hold: submissions and sign-ins per client address (portal-svc),
wrong connection codes per company (dispatch-svc)."""

import asyncio
import time

import pytest
from dispatch_svc.config import Settings as DispatchSettings
from dispatch_svc.domain.codes import TOO_MANY_WRONG_CODES
from portal_svc.config import Settings as PortalSettings
from secsupport import (
    PASSWORD,
    assert_error,
    bearer,
    client,
    eventually,
    fresh_address,
    request_status,
    submit,
)

pytestmark = pytest.mark.e2e

SUBMISSIONS = PortalSettings.model_fields["submission_limit"].default
LOGINS = PortalSettings.model_fields["login_limit"].default
SUBMISSION_WINDOW = PortalSettings.model_fields["submission_window_seconds"].default
LOGIN_WINDOW = PortalSettings.model_fields["login_window_seconds"].default
WRONG_CODES = DispatchSettings.model_fields["code_failures_per_window"].default
DEFAULT_CODE_WINDOW = DispatchSettings.model_fields["code_failure_window_seconds"].default


async def early_in_a_window(seconds: float) -> None:
    """The shared limiter's sliding count weighs the previous window's attempts by how much of
    that window still overlaps, as if they had been spread evenly: a burst across a window
    boundary is under-counted, by design. A test's burst starts early in a window instead."""
    remaining = seconds - time.time() % seconds
    if remaining < seconds / 2:
        await asyncio.sleep(remaining + 0.5)


async def test_submissions_are_limited_per_client_address(system, victim):
    subdomain = victim.portals["queue"]["subdomain"]
    path = f"/api/portal/public/portals/{subdomain}/requests"
    flooder = fresh_address()
    await early_in_a_window(SUBMISSION_WINDOW)
    async with client(system, flooder) as http:
        # Malformed submissions count too: the limit is checked before the body.
        for _ in range(SUBMISSIONS):
            assert_error(await http.post(path, json={"customer_name": ""}), 422, "validation_failed")
        valid = {"customer_name": "Flood", "description": "one more"}
        assert_error(await http.post(path, json=valid), 429, "rate_limited")
        # A forged X-Forwarded-For does not buy a fresh allowance: the gateway overwrites it.
        forged = await http.post(path, json=valid, headers={"X-Forwarded-For": "203.0.113.7"})
        assert_error(forged, 429, "rate_limited")
    # Another client is not affected.
    assert (await submit(system, subdomain))["request_id"]


async def test_sign_in_attempts_are_limited_per_client_address(system, victim):
    email = victim.technicians["outsider"]["email"]
    await early_in_a_window(LOGIN_WINDOW)
    async with client(system) as http:
        for _ in range(LOGINS):
            wrong = await http.post("/api/portal/auth/login", json={"email": email, "password": "wrong-password"})
            assert_error(wrong, 401, "invalid_credentials")
        # Past the limit even the right password is refused: guessing gets no answer.
        right = await http.post("/api/portal/auth/login", json={"email": email, "password": PASSWORD})
        assert_error(right, 429, "rate_limited")
    async with client(system) as http:
        assert (
            await http.post("/api/portal/auth/login", json={"email": email, "password": PASSWORD})
        ).status_code == 200


async def test_guessing_connection_codes_is_throttled(system, victim):
    """Phone mode: past the documented number of wrong codes in a window, every code is
    refused for that company, even the right one (or guessing would still pay)."""
    portal = victim.portals["guess"]
    async with client(system) as http:
        issued = await http.post(
            "/api/dispatch/codes",
            json={"company_id": portal["company_id"]},
            headers=bearer(victim.technicians["owner"]["token"]),
        )
        assert issued.status_code == 201, issued.text
    right = issued.json()["code"]
    window_seconds = float(system.extra_env.get("CODE_FAILURE_WINDOW_SECONDS", DEFAULT_CODE_WINDOW))
    wrong_codes = [str((int(right) + 1 + i) % 10**9).zfill(9) for i in range(WRONG_CODES)]
    # Failures are counted per fixed window: start early in one so the test ends in it, with
    # room for a loaded machine (the guesses and the right code can take tens of seconds).
    remaining = window_seconds - time.time() % window_seconds
    if remaining < window_seconds * 0.75:
        await asyncio.sleep(remaining + 0.5)
    window = int(time.time() // window_seconds)

    addresses = [fresh_address() for _ in range(-(-WRONG_CODES // (SUBMISSIONS - 1)))]
    guesses = await asyncio.gather(
        *(
            submit(system, portal["subdomain"], addresses[i % len(addresses)], connection_code=code)
            for i, code in enumerate(wrong_codes)
        )
    )

    async def all_rejected() -> list[dict] | None:
        statuses = [await request_status(system, g["request_id"], g["token"]) for g in guesses]
        return statuses if all(s["status"] == "rejected" for s in statuses) else None

    statuses = await eventually(all_rejected, timeout=60, what="every wrong code is rejected")
    assert {s["reason"] for s in statuses} == {"invalid_code"}

    attempt = await submit(system, portal["subdomain"], connection_code=right)

    async def decided() -> dict | None:
        status = await request_status(system, attempt["request_id"], attempt["token"])
        return status if status["status"] not in {"submitted", "queued", "offered"} else None

    status = await eventually(decided, timeout=30, what="the right code is decided")
    assert int(time.time() // window_seconds) == window, "the test outlasted its rate-limit window"
    assert status["status"] == "rejected", status
    assert status["reason"] == "invalid_code"
    assert status["message"] == TOO_MANY_WRONG_CODES
