"""Loopback and private endpoints are refused unless WEBHOOK_ALLOW_PRIVATE allows them (the
refusal comes before anything is stored, so no database is needed to see it)."""

import httpx
import pytest

from servicekit.auth import Role
from testkit import bearer
from testkit.plugin import make_token
from testkit.snapshots import snapshot_settings
from webhook_svc.bootstrap import bootstrap
from webhook_svc.config import Settings

ADMIN = bearer(make_token(Role.ADMIN, subject="adm_1", account_id="acc_1"))


async def post_endpoint(url: str, **settings: object) -> httpx.Response:
    service = bootstrap(snapshot_settings(Settings).model_copy(update=settings))
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as http:
        return await http.post(
            "/api/webhook/endpoints", json={"url": url, "event_types": ["RequestSubmitted"]}, headers=ADMIN
        )


async def test_loopback_is_refused_by_default_with_a_clear_json_error():
    for url in (
        "https://127.0.0.1:9443/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/",
    ):
        response = await post_endpoint(url)
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"] == "private_address"
        assert "private, loopback or link-local" in response.json()["message"]


async def test_plain_http_is_refused_by_default():
    response = await post_endpoint("http://93.184.216.34/hook")
    assert response.status_code == 422 and response.json()["error"] == "https_required"


def test_the_setting_is_off_unless_set(monkeypatch):
    monkeypatch.setenv("ASSISTLINE_DEV_MODE", "1")
    assert Settings().webhook_allow_private is False
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "[1, 2.5]")
    settings = Settings()
    assert settings.webhook_allow_private is True and settings.webhook_retry_schedule == [1.0, 2.5]


def test_a_lease_shorter_than_two_attempts_is_refused(monkeypatch):
    monkeypatch.setenv("ASSISTLINE_DEV_MODE", "1")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "10")
    monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", "15")
    with pytest.raises(ValueError, match="WEBHOOK_LEASE_SECONDS"):
        Settings()
