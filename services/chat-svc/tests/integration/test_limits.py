"""Limits are explained with an error frame; the socket stays usable where it can."""

import asyncio
import json

import pytest

from testkit import eventually

pytestmark = pytest.mark.integration


async def test_a_message_too_long_is_refused_and_the_socket_stays_open(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        await customer.send(json.dumps({"type": "message", "text": "x" * 2001}))
        error = await chat.frame_of(customer, "error")
        assert error["code"] == "message_too_long" and "2000" in error["message"]
        await customer.send(json.dumps({"type": "message", "text": "x" * 2000}))
        assert len((await chat.frame_of(customer, "message"))["text"]) == 2000


async def test_malformed_frames_get_an_explanation(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        for bad in ("{not json", '{"type": "shout"}', '{"type": "message"}', '{"type": "message", "text": "   "}'):
            await customer.send(bad)
            error = await chat.frame_of(customer, "error")
            assert error["code"] in {"invalid_frame", "empty_message"}, error
        await customer.send(b"\x00binary")
        assert (await chat.frame_of(customer, "error"))["code"] == "invalid_frame"


async def test_sending_too_fast_is_refused_per_message_with_a_reason(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        await chat.frame(customer)
        for n in range(14):
            await customer.send(json.dumps({"type": "message", "text": f"spam {n}"}))
        frames: list[dict] = []
        async with asyncio.timeout(15):
            while len(frames) < 14:
                frames.append(json.loads(await customer.recv()))
        delivered = [f for f in frames if f["type"] == "message"]
        refused = [f for f in frames if f["type"] == "error"]
        assert len(delivered) >= 10 and refused
        assert {f["code"] for f in refused} == {"rate_limited"}
        assert delivered[:10] == sorted(delivered[:10], key=lambda f: f["seq"])

        # The allowance comes back with time.
        await asyncio.sleep(1.0)
        await customer.send('{"type": "message", "text": "calm again"}')
        assert (await chat.frame_of(customer, "message", text="calm again"))["author"] == "customer"
    stored = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))).json()
    assert len(stored["messages"]) == len(delivered) + 1


async def test_one_token_opens_a_limited_number_of_sockets(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    token = chat.customer(request_id)
    async with chat.connect(session_id, token) as first, chat.connect(session_id, token) as second:
        async with chat.connect(session_id, token) as third:
            for ws in (first, second, third):
                assert (await chat.frame(ws))["type"] == "session"
            # Refused twice: a refused socket gives its place back, it does not keep one.
            for _ in range(2):
                async with chat.connect(session_id, token) as fourth:
                    frames, code, reason = await chat.closed(fourth)
                assert frames == [{"type": "error", "code": "too_many_sockets", "message": frames[0]["message"]}]
                assert code == 1008 and reason.startswith("too_many_sockets")

        # Closing one frees a place (as soon as the server has seen the close).
        async def admitted() -> bool:
            async with chat.connect(session_id, token) as again:
                return (await chat.frame(again))["type"] == "session"

        assert await eventually(admitted, timeout=10, what="a socket admitted after one closed")
        # The freed place is one place: with three open again, a fourth is still refused.
        async with chat.connect(session_id, token) as third:
            assert (await chat.frame(third))["type"] == "session"
            async with chat.connect(session_id, token) as fourth:
                frames, code, _ = await chat.closed(fourth)
            assert frames[0]["code"] == "too_many_sockets" and code == 1008
