"""The customer rates an ended chat once; the rating shows with the session; the event follows."""

import json
from datetime import timedelta

import pytest

pytestmark = pytest.mark.integration


async def _end(chat, request_id: str, session_id: str) -> None:
    ended = await chat.http.post(
        f"/sessions/{session_id}/end", json={"outcome": "resolved"}, headers=chat.auth(chat.technician())
    )
    assert ended.status_code == 200, ended.text
    await chat.ended(request_id)


async def test_the_customer_rates_an_ended_chat_once_and_staff_see_it(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    customer = chat.auth(chat.customer(request_id))
    url = f"/sessions/{session_id}/rating"

    early = await chat.http.post(url, json={"score": 5}, headers=customer)
    assert early.status_code == 409 and early.json()["error"] == "session_active"

    await _end(chat, request_id, session_id)
    rated = await chat.http.post(url, json={"score": 4, "comment": "  quick and kind  "}, headers=customer)
    assert rated.status_code == 201, rated.text
    assert rated.json()["score"] == 4 and rated.json()["comment"] == "quick and kind"

    event = await chat.tap.wait_for(lambda m: m["type"] == "ChatSessionRated" and m["data"]["request_id"] == request_id)
    assert {
        "session_id": session_id,
        "account_id": "acc_chat",
        "company_id": "cmp_globex",
        "technician_id": "tec_ana",
        "score": 4,
        "has_comment": True,
    }.items() <= event["data"].items()
    assert event["correlation_id"] == request_id
    # The comment is the customer's words: it stays in chat-svc, off the bus.
    assert "quick and kind" not in json.dumps(event)

    again = await chat.http.post(url, json={"score": 1}, headers=customer)
    assert again.status_code == 409 and again.json()["error"] == "already_rated"

    listed = (
        await chat.http.get("/sessions", params={"state": "completed"}, headers=chat.auth(chat.technician()))
    ).json()["sessions"]
    mine = next(s for s in listed if s["session_id"] == session_id)
    assert mine["rating"]["score"] == 4 and mine["rating"]["comment"] == "quick and kind"
    detail = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))).json()
    assert detail["session"]["rating"]["score"] == 4

    # A barrier: a later rating's event is on the bus, so a second one for this session would be too.
    other = chat.new_request()
    other_session = await chat.open(other)
    await _end(chat, other, other_session)
    assert (
        await chat.http.post(
            f"/sessions/{other_session}/rating", json={"score": 2}, headers=chat.auth(chat.customer(other))
        )
    ).status_code == 201
    await chat.tap.wait_for(lambda m: m["type"] == "ChatSessionRated" and m["data"]["request_id"] == other)
    assert len(chat.events("ChatSessionRated", request_id)) == 1
    unrated = (await chat.http.get(f"/sessions/{other_session}", headers=chat.auth(chat.admin()))).json()
    assert unrated["session"]["rating"]["score"] == 2


async def test_only_that_sessions_customer_rates_and_bad_input_is_refused_as_json(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    await _end(chat, request_id, session_id)
    url = f"/sessions/{session_id}/rating"

    for token in (chat.customer(chat.new_request()), chat.technician(), chat.admin()):
        refused = await chat.http.post(url, json={"score": 5}, headers=chat.auth(token))
        assert refused.status_code == 403 and refused.json()["error"] in {"not_your_session", "wrong_role"}
    anonymous = await chat.http.post(url, json={"score": 5})
    assert anonymous.status_code == 401 and "error" in anonymous.json()

    customer = chat.auth(chat.customer(request_id))
    for body in ({"score": 0}, {"score": 6}, {"score": "5"}, {"score": 4.5}, {}, {"score": 3, "comment": "x" * 1001}):
        bad = await chat.http.post(url, json=body, headers=customer)
        assert bad.status_code == 422 and bad.json()["error"] == "validation_failed", (body, bad.text)
        assert bad.json()["fields"], body

    # None of the refusals counted: the customer still rates, once.
    detail = (await chat.http.get(f"/sessions/{session_id}", headers=customer)).json()
    assert detail["session"]["rating"] is None
    assert (await chat.http.post(url, json={"score": 3}, headers=customer)).status_code == 201
    await chat.tap.wait_for(lambda m: m["type"] == "ChatSessionRated" and m["data"]["request_id"] == request_id)
    assert len(chat.events("ChatSessionRated", request_id)) == 1


async def test_an_unknown_session_is_not_found(chat):
    request_id = chat.new_request()
    missing = await chat.http.post(
        f"/sessions/{chat.session_of(request_id)}/rating",
        json={"score": 5},
        headers=chat.auth(chat.customer(request_id)),
    )
    assert missing.status_code == 404 and missing.json()["error"] == "session_not_found"


async def test_a_chat_already_moved_to_the_history_can_still_be_rated_once(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    await _end(chat, request_id, session_id)
    lifecycle = chat.service.handlers.lifecycle
    lifecycle.archive_after = timedelta(0)
    try:
        assert await lifecycle.archive_due() >= 1
    finally:
        lifecycle.archive_after = timedelta(seconds=60)
    assert await lifecycle.sessions.raw(session_id) is None

    customer = chat.auth(chat.customer(request_id))
    url = f"/sessions/{session_id}/rating"
    assert (await chat.http.post(url, json={"score": 5}, headers=customer)).status_code == 201
    again = await chat.http.post(url, json={"score": 5}, headers=customer)
    assert again.status_code == 409 and again.json()["error"] == "already_rated"
    await chat.tap.wait_for(lambda m: m["type"] == "ChatSessionRated" and m["data"]["request_id"] == request_id)
    detail = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))).json()
    assert detail["session"]["state"] == "completed" and detail["session"]["rating"]["score"] == 5
    assert len(chat.events("ChatSessionRated", request_id)) == 1
