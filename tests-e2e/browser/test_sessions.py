"""Staff sessions in the browser: short-lived tokens are refreshed silently, a refused refresh
signs the person out, and no WebSocket carries a token in its URL."""

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, WebSocket, expect

from servicekit.auth import Principal, Role, issue_token
from testkit import eventually
from testkit.plugin import DEV_SECRET

pytestmark = pytest.mark.e2e

PASSWORD = "browser-session-pass"
STORE = "assistline:help"


async def new_technician(base_url: str) -> dict[str, Any]:
    """A technician of an account of their own (no demo technician's presence is disturbed)."""
    tag = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        admin_email, email = f"admin-{tag}@sessions.test", f"tech-{tag}@sessions.test"
        signup = {
            "account_name": "Sessions",
            "admin_name": "Admin",
            "admin_email": admin_email,
            "admin_password": PASSWORD,
        }
        (await http.post("/api/portal/accounts", json=signup)).raise_for_status()
        admin = (await http.post("/api/portal/auth/login", json={"email": admin_email, "password": PASSWORD})).json()
        headers = {"Authorization": f"Bearer {admin['token']}"}
        company = (await http.post("/api/portal/companies", json={"name": "Sessions Co"}, headers=headers)).json()
        body = {
            "name": "Sam",
            "email": email,
            "password": PASSWORD,
            "company_ids": [company["company_id"]],
            "capacity": 1,
        }
        (await http.post("/api/portal/technicians", json=body, headers=headers)).raise_for_status()
        signed_in = await http.post("/api/portal/auth/login", json={"email": email, "password": PASSWORD})
        signed_in.raise_for_status()
        return signed_in.json()


def expired_copy(session: dict[str, Any]) -> str:
    """The same person's access token, already out of time (as after a laptop slept)."""
    principal = Principal(
        subject=session["user_id"],
        role=Role.TECHNICIAN,
        account_id=session["account_id"],
        name=session["name"],
        company_ids=session["company_ids"],
    )
    return issue_token(principal, DEV_SECRET, timedelta(seconds=-30))


async def help_center_with(ui, session: dict[str, Any]) -> tuple[Page, list[WebSocket]]:
    """Opens the help center of a tab that already holds `session` (as after a reload)."""
    context = await ui.context(viewport={"width": 1280, "height": 800})
    await context.add_init_script(f"sessionStorage.setItem({json.dumps(STORE)}, {json.dumps(json.dumps(session))});")
    page = await context.new_page()
    sockets: list[WebSocket] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    await page.goto("/help")
    return page, sockets


async def test_an_expired_access_token_is_refreshed_silently(ui):
    session = await new_technician(ui.base_url)
    stale = {**session, "token": expired_copy(session)}
    page, sockets = await help_center_with(ui, stale)
    await expect(page.locator("#connection")).to_contain_text("Connected")
    await expect(page.locator("#who")).to_have_text("Sam")

    async def refreshed() -> dict[str, Any] | None:
        kept = json.loads(await page.evaluate(f"sessionStorage.getItem({json.dumps(STORE)})"))
        fresh = kept["token"] != stale["token"] and kept["refresh_token"] != stale["refresh_token"]
        return kept if fresh else None

    await eventually(refreshed, timeout=15, what="the tab holds a refreshed pair of tokens")
    assert sockets, "the help center opened no WebSocket"
    assert all("token" not in socket.url for socket in sockets), [s.url for s in sockets]


async def test_a_refused_refresh_signs_the_person_out(ui):
    session = await new_technician(ui.base_url)
    page, _ = await help_center_with(ui, {**session, "token": expired_copy(session), "refresh_token": "not.a.jwt"})
    await expect(page.locator("#signin")).to_be_visible()
    await expect(page.locator("#signin-error")).not_to_be_empty()
    assert await page.evaluate(f"sessionStorage.getItem({json.dumps(STORE)})") is None
