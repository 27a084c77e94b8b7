"""Canned replies against the real store: scopes, unique shortcuts, variables, clear JSON
errors, and access from chat-svc's own record of the technician (not the token alone)."""

import pytest

pytestmark = pytest.mark.integration

COMPANY = "cmp_globex"


async def add(chat, token: str, **body):
    return await chat.http.post("/canned-replies", json=body, headers=chat.auth(token))


async def test_admins_manage_the_account_replies_and_technicians_their_own(chat):
    await chat.grant("tec_cara", [COMPANY])
    cara = chat.technician("tec_cara", companies=[COMPANY], name="Cara")
    admin = chat.admin()

    made = await add(chat, admin, scope="account", title="Thanks", shortcut="/Thanks", text="Thanks {customer_name}!")
    assert made.status_code == 201, made.text
    assert made.json()["shortcut"] == "/thanks"  # normalised
    mine = await add(chat, cara, scope="personal", title="Hi", shortcut="hi", text="Hi, {technician_name} here.")
    assert mine.status_code == 201, mine.text
    # The same shortcut in the other scope is fine; twice in one scope is a clear conflict.
    assert (await add(chat, cara, scope="personal", title="Mine", shortcut="/thanks", text="ty")).status_code == 201
    again = await add(chat, admin, scope="account", title="Again", shortcut="/thanks", text="x")
    assert again.status_code == 409 and again.json()["error"] == "duplicate_shortcut"

    listed = (await chat.http.get("/canned-replies", headers=chat.auth(cara))).json()
    assert [r["shortcut"] for r in listed["account"]] == ["/thanks"]
    assert [r["shortcut"] for r in listed["personal"]] == ["/hi", "/thanks"]
    assert "customer_name" in listed["variables"]
    # Another technician sees the account's replies, never Cara's own.
    await chat.grant("tec_dina", [COMPANY])
    dina = chat.technician("tec_dina", companies=[COMPANY], name="Dina")
    theirs = (await chat.http.get("/canned-replies", headers=chat.auth(dina))).json()
    assert [r["shortcut"] for r in theirs["account"]] == ["/thanks"] and theirs["personal"] == []

    # Technicians may not change the account's replies; admins have no personal ones.
    refused = await add(chat, cara, scope="account", title="Nope", shortcut="/nope", text="x")
    assert refused.status_code == 403 and refused.json()["error"] == "wrong_role"
    assert (await add(chat, admin, scope="personal", title="x", shortcut="/x", text="x")).status_code == 403
    reply_id = made.json()["reply_id"]
    assert (await chat.http.delete(f"/canned-replies/account/{reply_id}", headers=chat.auth(cara))).status_code == 403

    # Renaming the shortcut frees the old one; a missing reply is a JSON 404.
    hi_id = mine.json()["reply_id"]
    changed = await chat.http.put(
        f"/canned-replies/personal/{hi_id}",
        json={"title": "Hello", "shortcut": "/hello", "text": "Hello!"},
        headers=chat.auth(cara),
    )
    assert changed.status_code == 200 and changed.json()["shortcut"] == "/hello"
    assert (await add(chat, cara, scope="personal", title="Hi", shortcut="/hi", text="Hi")).status_code == 201
    taken = await chat.http.put(
        f"/canned-replies/personal/{hi_id}",
        json={"title": "H", "shortcut": "/thanks", "text": "x"},
        headers=chat.auth(cara),
    )
    assert taken.status_code == 409 and taken.json()["error"] == "duplicate_shortcut"
    gone = await chat.http.delete("/canned-replies/personal/cnr_missing", headers=chat.auth(cara))
    assert gone.status_code == 404 and gone.json()["error"] == "canned_reply_not_found"
    deleted = await chat.http.delete(f"/canned-replies/account/{reply_id}", headers=chat.auth(admin))
    assert deleted.status_code == 204
    assert (await chat.http.get("/canned-replies", headers=chat.auth(admin))).json()["account"] == []


async def test_bad_replies_get_clear_errors_and_a_removed_technician_gets_nothing(chat):
    await chat.grant("tec_eli", [COMPANY])
    eli = chat.technician("tec_eli", companies=[COMPANY], name="Eli")
    cases = [
        ({"shortcut": "/no spaces"}, "shortcut"),
        ({"shortcut": "/"}, "shortcut"),
        ({"text": "Hello {custmer_name}"}, "{custmer_name}"),
        ({"text": "   "}, "empty"),
        ({"title": " "}, "title"),
    ]
    for change, words in cases:
        body = {"scope": "personal", "title": "T", "shortcut": "/ok", "text": "fine", **change}
        response = await add(chat, eli, **body)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"] == "invalid_canned_reply" and words in response.json()["message"]
    unknown_field = await add(chat, eli, scope="personal", title="T", shortcut="/ok", text="x", extra=1)
    assert unknown_field.status_code == 422 and unknown_field.json()["error"] == "validation_failed"

    await chat.grant("tec_eli", [COMPANY], enabled=False)  # removed; the token is still valid
    refused = await chat.http.get("/canned-replies", headers=chat.auth(eli))
    assert refused.status_code == 403 and refused.json()["error"] == "wrong_role"
    stranger = chat.technician("tec_never_announced", companies=[COMPANY], name="X")
    assert (await chat.http.get("/canned-replies", headers=chat.auth(stranger))).json()["error"] == "unknown_technician"
