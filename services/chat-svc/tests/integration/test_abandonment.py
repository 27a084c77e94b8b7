"""A customer away longer than the timeout has abandoned the session."""

import asyncio

import pytest

pytestmark = pytest.mark.integration


async def test_a_customer_who_leaves_for_too_long_abandons_the_session(impatient_chat):
    chat = impatient_chat
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.technician()) as technician:
        async with chat.connect(session_id, chat.customer(request_id)) as customer:
            await customer.send('{"type": "message", "text": "brb"}')
            await chat.frame_of(customer, "message")
        ended = await chat.ended(request_id, timeout=10)
        frames, code, _ = await chat.closed(technician)
    assert (ended["data"]["ended_by"], ended["data"]["outcome"]) == ("abandoned", "unknown")
    assert "The chat ended: the customer left." in [f.get("text") for f in frames]
    assert code == 1000


async def test_a_customer_who_comes_back_in_time_keeps_the_session(impatient_chat):
    chat = impatient_chat
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    token = chat.customer(request_id)
    lifecycle = chat.service.handlers.lifecycle
    async with chat.connect(session_id, token) as customer:
        await chat.frame(customer)
        await asyncio.sleep(1.5)  # longer than the allowed absence, but connected all along
        # Barrier: run the abandonment check ourselves; it must leave this session alone.
        await lifecycle.abandon_due()
        assert (await lifecycle.sessions.get(session_id)).is_active
    async with chat.connect(session_id, token) as customer:  # back well within the second
        assert (await chat.frame(customer))["state"] == "active"
        await asyncio.sleep(1.5)
        await lifecycle.abandon_due()
        assert (await lifecycle.sessions.get(session_id)).is_active
    assert chat.events("ChatSessionEnded", request_id) == []
    ended = await chat.ended(request_id, timeout=10)
    assert ended["data"]["ended_by"] == "abandoned"


async def test_a_customer_who_never_connects_abandons_too(impatient_chat):
    chat = impatient_chat
    request_id = chat.new_request()
    await chat.open(request_id)
    ended = await chat.ended(request_id, timeout=10)
    assert ended["data"]["ended_by"] == "abandoned"
