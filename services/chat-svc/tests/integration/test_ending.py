"""Either side ends the session; the technician records outcome and notes; the event follows."""

import json

import pytest

pytestmark = pytest.mark.integration


async def test_the_technician_ends_with_an_outcome_and_notes(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        # Joined before the end (a socket that joins an ended chat gets its replay instead).
        assert (await chat.frame_of(customer, "session"))["state"] == "active"
        async with chat.connect(session_id, chat.technician()) as technician:
            await chat.frame_of(technician, "message", author="system")
            await technician.send('{"type": "end"}')
            refusal = await chat.frame_of(technician, "error")
            assert refusal["code"] == "outcome_required"

            await technician.send(json.dumps({"type": "end", "outcome": "resolved", "notes": "replaced toner"}))
            ended = await chat.ended(request_id)
            _technician_frames, technician_code, _ = await chat.closed(technician)
        customer_frames, customer_code, reason = await chat.closed(customer)

    assert ended["data"] == {
        "session_id": session_id,
        "request_id": request_id,
        "account_id": "acc_chat",
        "company_id": "cmp_globex",
        "technician_id": "tec_ana",
        "ended_by": "technician",
        "outcome": "resolved",
    }
    assert ended["correlation_id"] == request_id
    assert technician_code == customer_code == 1000 and reason == "session ended"
    notice = [f for f in customer_frames if f["type"] == "message"][-1]
    assert notice["author"] == "system" and notice["text"] == "The technician ended the chat."
    assert {
        "type": "session",
        "state": "completed",
        "ended_by": "technician",
        "outcome": "resolved",
    }.items() <= customer_frames[-1].items()

    detail = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.technician()))).json()
    assert detail["session"]["notes"] == "replaced toner"
    assert detail["session"]["state"] == "completed"

    # An ended session can be read again but not continued, and ends only once.
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        frames, code, _ = await chat.closed(customer)
    assert frames[0]["state"] == "completed" and code == 1000
    again = await chat.http.post(
        f"/sessions/{session_id}/end", json={"outcome": "unresolved"}, headers=chat.auth(chat.technician())
    )
    assert again.status_code == 409 and again.json()["error"] == "session_ended"
    assert len(chat.events("ChatSessionEnded", request_id)) == 1


async def test_the_customer_ends_the_session(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.technician()) as technician:
        async with chat.connect(session_id, chat.customer(request_id)) as customer:
            await customer.send('{"type": "end", "outcome": "resolved"}')
            await chat.closed(customer)
        frames, _code, _ = await chat.closed(technician)
    ended = await chat.ended(request_id)
    assert (ended["data"]["ended_by"], ended["data"]["outcome"]) == ("customer", "unknown")
    assert "The customer ended the chat." in [f.get("text") for f in frames]


async def test_the_technician_ends_over_http_and_the_transcript_downloads(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        await customer.send('{"type": "message", "text": "my screen is blue"}')
        await chat.frame_of(customer, "message")

    wrong = await chat.http.post(
        f"/sessions/{session_id}/end", json={"outcome": "resolved"}, headers=chat.auth(chat.technician("tec_zoe"))
    )
    assert wrong.status_code == 403
    invalid = await chat.http.post(
        f"/sessions/{session_id}/end", json={"outcome": "great"}, headers=chat.auth(chat.technician())
    )
    assert invalid.status_code == 422 and invalid.json()["fields"][0]["field"] == "outcome"
    response = await chat.http.post(
        f"/sessions/{session_id}/end",
        json={"outcome": "unresolved", "notes": "needs on-site visit"},
        headers=chat.auth(chat.technician()),
    )
    assert response.status_code == 200
    assert response.json()["state"] == "completed" and response.json()["ended_by"] == "technician"
    ended = await chat.ended(request_id)
    assert ended["data"]["outcome"] == "unresolved"

    transcript = await chat.http.get(f"/sessions/{session_id}/transcript", headers=chat.auth(chat.customer(request_id)))
    assert transcript.status_code == 200
    assert transcript.headers["content-disposition"] == f'attachment; filename="chat-{session_id}.txt"'
    assert "my screen is blue" in transcript.text
    assert "The technician ended the chat." in transcript.text
    assert "needs on-site visit" not in transcript.text


async def test_after_the_customer_left_the_technician_records_outcome_and_notes(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    technician = chat.auth(chat.technician())
    early = await chat.http.post(f"/sessions/{session_id}/wrap-up", json={"outcome": "resolved"}, headers=technician)
    assert early.status_code == 409 and early.json()["error"] == "session_active"

    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        await customer.send('{"type": "end"}')
        await chat.closed(customer)
    await chat.ended(request_id)

    other = await chat.http.post(
        f"/sessions/{session_id}/wrap-up", json={"outcome": "resolved"}, headers=chat.auth(chat.technician("tec_zoe"))
    )
    assert other.status_code == 403
    saved = await chat.http.post(
        f"/sessions/{session_id}/wrap-up",
        json={"outcome": "resolved", "notes": "customer confirmed by phone"},
        headers=technician,
    )
    assert saved.status_code == 200, saved.text
    assert (saved.json()["outcome"], saved.json()["ended_by"]) == ("resolved", "customer")
    detail = (await chat.http.get(f"/sessions/{session_id}", headers=technician)).json()["session"]
    assert (detail["outcome"], detail["notes"]) == ("resolved", "customer confirmed by phone")
