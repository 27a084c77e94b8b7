"""Access follows the admin at once: chat-svc decides from its own record of the technician
(fed by TechnicianUpdated), not from the company list of a token issued earlier."""

import json

import pytest

from contracts import Envelope, TechnicianUpdated

pytestmark = pytest.mark.integration

COMPANY = "cmp_globex"
OTHER = "cmp_initech"


async def assert_refused_everywhere(chat, session_id: str, token: str, code: str) -> None:
    for path in (f"/sessions/{session_id}", f"/sessions/{session_id}/transcript"):
        response = await chat.http.get(path, headers=chat.auth(token))
        assert response.status_code == 403 and response.json()["error"] == code, response.text
    listed = await chat.http.get("/sessions", params={"company_id": COMPANY}, headers=chat.auth(token))
    assert listed.status_code == 403 and listed.json()["error"] == code
    ended = await chat.http.post(f"/sessions/{session_id}/end", json={"outcome": "resolved"}, headers=chat.auth(token))
    assert ended.status_code == 403 and ended.json()["error"] == code
    async with chat.connect(session_id, token) as ws:
        frames, close_code, _ = await chat.closed(ws)
    assert close_code == 1008 and frames[-1]["code"] == code


async def test_a_technician_removed_from_a_company_loses_it_at_once(chat):
    await chat.grant("tec_rita", [COMPANY, OTHER])
    # Issued before the change, and still claiming the company: it must not matter.
    token = chat.technician("tec_rita", companies=[COMPANY, OTHER], name="Rita")
    request_id = chat.new_request()
    session_id = await chat.open(request_id, "tec_rita")
    kept = await chat.open(chat.new_request(), "tec_rita", company_id=OTHER)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        async with chat.connect(session_id, token) as rita, chat.connect(kept, token) as rita_elsewhere:
            await chat.frame_of(rita, "message", author="system")
            await chat.frame_of(rita_elsewhere, "message", author="system")
            listed = (await chat.http.get("/sessions", headers=chat.auth(token))).json()["sessions"]
            assert {session_id, kept} <= {s["session_id"] for s in listed}

            await chat.grant("tec_rita", [OTHER])  # the admin takes COMPANY away

            _frames, code, reason = await chat.closed(rita)
            assert (code, reason) == (4403, "access revoked")
            # Her socket on the company she kept stays open and usable.
            await rita_elsewhere.send(json.dumps({"type": "message", "text": "still here"}))
            assert (await chat.frame_of(rita_elsewhere, "message", author="technician"))["text"] == "still here"
        # The customer's side of the chat is untouched.
        await customer.send(json.dumps({"type": "message", "text": "hello?"}))
        await chat.frame_of(customer, "message", text="hello?")

    await assert_refused_everywhere(chat, session_id, token, "not_your_session")
    listed = (await chat.http.get("/sessions", headers=chat.auth(token))).json()["sessions"]
    ids = {s["session_id"] for s in listed}
    assert session_id not in ids and kept in ids


async def test_a_deleted_technician_is_refused_and_pushed_out(chat):
    await chat.grant("tec_dora", [COMPANY])
    token = chat.technician("tec_dora", name="Dora")
    session_id = await chat.open(chat.new_request(), "tec_dora")
    async with chat.connect(session_id, token) as dora:
        await chat.frame_of(dora, "message", author="system")
        await chat.grant("tec_dora", [COMPANY], enabled=False)
        _, code, reason = await chat.closed(dora)
    assert (code, reason) == (4403, "access revoked")
    await assert_refused_everywhere(chat, session_id, token, "not_your_session")
    assert (await chat.http.get("/sessions", headers=chat.auth(token))).json() == {"sessions": []}


async def test_access_given_back_works_again_and_stale_updates_change_nothing(chat):
    await chat.grant("tec_remy", [OTHER])
    token = chat.technician("tec_remy")
    session_id = await chat.open(chat.new_request(), "tec_remy")
    assert (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(token))).status_code == 403
    await chat.grant("tec_remy", [COMPANY])  # a company added after the token was issued
    assert (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(token))).status_code == 200

    # A redelivered older revision (still without COMPANY) must not undo the newer one.
    stale = TechnicianUpdated(
        technician_id="tec_remy",
        account_id="acc_chat",
        display_name="Remy",
        company_ids=[OTHER],
        capacity=3,
        enabled=True,
        revision=1,
    )
    await chat.publish(Envelope[TechnicianUpdated].of(stale, producer="portal-svc", correlation_id="tec_remy"))
    await chat.grant("tec_barrier", [COMPANY])  # consumed after the stale one (same queue, in order)
    record = await chat.service.handlers.technicians.record("tec_remy")
    assert record.revision == 2 and record.company_ids == {COMPANY}
    async with chat.connect(session_id, token) as remy:
        assert (await chat.frame(remy))["you"] == "technician"
