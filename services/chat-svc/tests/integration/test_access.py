"""Only the customer of the request and the assigned technician join; readers are scoped."""

import pytest
from websockets.asyncio.client import connect

from servicekit.auth import WS_SUBPROTOCOL, Role
from testkit.plugin import make_token

COMPANY = "cmp_globex"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def session(chat):
    request_id = chat.new_request()
    return request_id, await chat.open(request_id)


async def refused(chat, session_id, token):
    async with chat.connect(session_id, token) as ws:
        frames, code, reason = await chat.closed(ws)
    assert code == 1008, (code, reason)
    assert frames[-1]["type"] == "error"
    assert reason.startswith(frames[-1]["code"])
    return frames[-1]["code"]


async def test_a_bad_or_missing_token_is_refused(chat, session):
    _, session_id = session
    assert await refused(chat, session_id, "not-a-jwt") == "invalid_token"
    assert (
        await refused(chat, session_id, make_token(Role.TECHNICIAN, subject="tec_ana", secret="x" * 40))
        == "invalid_token"
    )
    async with chat.connect(session_id, "") as ws:
        frames, code, _ = await chat.closed(ws)
    assert code == 1008 and frames[-1]["code"] == "missing_token"


async def test_the_customer_of_another_request_is_refused(chat, session):
    _, session_id = session
    assert await refused(chat, session_id, chat.customer(chat.new_request())) == "not_your_session"


async def test_technicians_of_another_company_or_not_assigned_are_refused(chat, session):
    _, session_id = session
    assert await refused(chat, session_id, chat.technician("tec_zoe")) == "not_your_session"
    # The token's company list grants nothing: chat-svc's record of the technician decides
    # (tec_olga's says cmp_initech only).
    elsewhere = await chat.open(chat.new_request(), "tec_olga")
    assert await refused(chat, elsewhere, chat.technician("tec_olga", companies=[COMPANY])) == "not_your_session"
    # A technician chat-svc has never heard of is refused, whatever the token says.
    unheard = await chat.open(chat.new_request(), "tec_nobody")
    assert await refused(chat, unheard, chat.technician("tec_nobody")) == "unknown_technician"


async def test_a_token_in_the_url_is_refused(chat, session):
    _, session_id = session
    async with connect(f"{chat.ws_url}{session_id}?token={chat.technician()}") as ws:
        frames, code, reason = await chat.closed(ws)
    assert code == 1008 and frames[-1]["code"] == "token_in_url" and reason.startswith("token_in_url")


async def test_the_socket_is_accepted_with_the_assistline_subprotocol(chat, session):
    request_id, session_id = session
    async with chat.connect(session_id, chat.customer(request_id)) as ws:
        assert ws.subprotocol == WS_SUBPROTOCOL
        assert (await chat.frame(ws))["type"] == "session"


async def test_admins_read_but_do_not_chat(chat, session):
    _, session_id = session
    assert await refused(chat, session_id, chat.admin()) == "wrong_role"


async def test_an_unknown_session_is_refused(chat):
    assert await refused(chat, "cht_req_nope", chat.technician()) == "session_not_found"


async def test_reading_sessions_is_limited_to_company_account_and_request(chat, session):
    request_id, session_id = session
    allowed = [chat.technician(), chat.technician("tec_zoe"), chat.admin(), chat.customer(request_id)]
    for token in allowed:
        assert (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(token))).status_code == 200
    denied = [
        chat.technician("tec_olga", companies=[COMPANY]),
        chat.admin("acc_other"),
        chat.customer(chat.new_request()),
    ]
    for token in denied:
        for path in (f"/sessions/{session_id}", f"/sessions/{session_id}/transcript"):
            response = await chat.http.get(path, headers=chat.auth(token))
            assert response.status_code == 403
            assert response.json()["error"] == "not_your_session"
    for path in (f"/sessions/{session_id}", f"/sessions/{session_id}/transcript", "/sessions"):
        unheard = await chat.http.get(path, headers=chat.auth(chat.technician("tec_nobody")))
        assert unheard.status_code == 403 and unheard.json()["error"] == "unknown_technician"
    anonymous = await chat.http.get(f"/sessions/{session_id}")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "missing_token"
    # Customers see the chat, not the technician's notes.
    as_customer = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.customer(request_id)))).json()
    assert as_customer["session"]["notes"] is None


async def test_listing_shows_technicians_their_companies_and_admins_their_account(chat):
    mine = await chat.open(chat.new_request())
    other_company = await chat.open(chat.new_request(), "tec_olga", company_id="cmp_initech")
    technician = (await chat.http.get("/sessions", headers=chat.auth(chat.technician()))).json()
    ids = {s["session_id"] for s in technician["sessions"]}
    assert mine in ids and other_company not in ids
    admin = (await chat.http.get("/sessions?state=active", headers=chat.auth(chat.admin()))).json()
    assert {mine, other_company} <= {s["session_id"] for s in admin["sessions"]}
    completed = (await chat.http.get("/sessions?state=completed", headers=chat.auth(chat.admin()))).json()
    assert mine not in {s["session_id"] for s in completed["sessions"]}
    assert (await chat.http.get("/sessions", headers=chat.auth(chat.admin("acc_other")))).json() == {"sessions": []}

    customer = await chat.http.get("/sessions", headers=chat.auth(chat.customer(chat.new_request())))
    assert customer.status_code == 403 and customer.json()["error"] == "wrong_role"
    bad_state = await chat.http.get("/sessions?state=open", headers=chat.auth(chat.admin()))
    assert bad_state.status_code == 422 and bad_state.json()["error"] == "validation_failed"
    forbidden_company = await chat.http.get("/sessions?company_id=cmp_initech", headers=chat.auth(chat.technician()))
    assert forbidden_company.status_code == 403
