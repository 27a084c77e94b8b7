"""Sign-in and refresh on an in-memory user store: the new pair follows the current record."""

from datetime import timedelta
from typing import Any

import pytest

from portal_svc.adapters.passwords import hash_password
from portal_svc.adapters.tokens import TokenIssuer
from portal_svc.domain.commands import Login
from portal_svc.handlers.auth import StaffAuth
from servicekit.auth import REFRESH, Principal, Role, issue_token, verify_token
from servicekit.errors import Unauthorized

SECRET = "unit-test-secret-of-at-least-32-bytes!"


class InMemoryUsers:
    def __init__(self, *docs: dict[str, Any]) -> None:
        self.docs = {doc["_id"]: doc for doc in docs}

    async def by_id(self, user_id: str) -> dict[str, Any] | None:
        return self.docs.get(user_id)

    async def by_email(self, email: str) -> dict[str, Any] | None:
        return next((doc for doc in self.docs.values() if doc["email"] == email), None)


class Unlimited:
    """A limit that never refuses (the shared limiter has its own tests in servicekit)."""

    def __init__(self) -> None:
        self.hits: list[str] = []

    async def hit(self, key: str) -> None:
        self.hits.append(key)


@pytest.fixture
async def world():
    ana = {
        "_id": "tec_ana",
        "account_id": "acc_a",
        "role": "technician",
        "email": "ana@a.test",
        "name": "Ana",
        "company_ids": ["cmp_x", "cmp_y"],
        "enabled": True,
        "revision": 1,
        "password_hash": await hash_password("pw-ana-123"),
    }
    users = InMemoryUsers(ana)
    tokens = TokenIssuer(
        SECRET, staff_access=timedelta(seconds=600), staff_refresh=timedelta(hours=8), customer=timedelta(hours=1)
    )
    auth = StaffAuth(users, tokens, Unlimited(), Unlimited())  # type: ignore[arg-type]
    return users, auth


async def test_refresh_reflects_the_record_as_it_is_now(world):
    users, auth = world
    signed_in = await auth.login(Login(email="ana@a.test", password="pw-ana-123"), "10.0.0.1")
    assert (signed_in["expires_in"], signed_in["company_ids"]) == (600, ["cmp_x", "cmp_y"])
    users.docs["tec_ana"] = {**users.docs["tec_ana"], "company_ids": ["cmp_x"], "name": "Ana B.", "revision": 2}
    renewed = await auth.refresh(signed_in["refresh_token"], "10.0.0.1")
    assert (renewed["company_ids"], renewed["name"]) == (["cmp_x"], "Ana B.")
    assert verify_token(renewed["token"], SECRET).company_ids == ["cmp_x"]


async def test_refresh_is_refused_once_the_person_is_removed_or_gone(world):
    users, auth = world
    signed_in = await auth.login(Login(email="ana@a.test", password="pw-ana-123"), "10.0.0.1")
    users.docs["tec_ana"] = {**users.docs["tec_ana"], "enabled": False}
    with pytest.raises(Unauthorized) as disabled:
        await auth.refresh(signed_in["refresh_token"], "10.0.0.1")
    assert disabled.value.code == "account_disabled"
    users.docs.clear()
    with pytest.raises(Unauthorized):
        await auth.refresh(signed_in["refresh_token"], "10.0.0.1")


async def test_only_a_refresh_token_of_ours_is_accepted(world):
    _, auth = world
    signed_in = await auth.login(Login(email="ana@a.test", password="pw-ana-123"), "10.0.0.1")
    principal = Principal(subject="tec_ana", role=Role.TECHNICIAN, account_id="acc_a")
    for token, code in (
        (signed_in["token"], "wrong_token_kind"),
        (
            issue_token(principal, "another-secret-of-at-least-32-bytes!", timedelta(hours=1), kind=REFRESH),
            "invalid_token",
        ),
        (issue_token(principal, SECRET, timedelta(seconds=-5), kind=REFRESH), "token_expired"),
    ):
        with pytest.raises(Unauthorized) as refused:
            await auth.refresh(token, "10.0.0.1")
        assert refused.value.code == code


async def test_current_refuses_a_token_whose_account_or_role_no_longer_matches(world):
    _, auth = world
    moved = Principal(subject="tec_ana", role=Role.TECHNICIAN, account_id="acc_other")
    with pytest.raises(Unauthorized):
        await auth.current(moved)
    promoted = Principal(subject="tec_ana", role=Role.ADMIN, account_id="acc_a")
    with pytest.raises(Unauthorized):
        await auth.current(promoted)
    current = await auth.current(
        Principal(subject="tec_ana", role=Role.TECHNICIAN, account_id="acc_a", company_ids=["old"])
    )
    assert current.company_ids == ["cmp_x", "cmp_y"]
