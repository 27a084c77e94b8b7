"""Messages both ways, in order, persisted before delivery; reconnect and resume."""

import json

import pytest

pytestmark = pytest.mark.integration


async def test_messages_flow_both_ways_in_order_and_are_persisted(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        hello = await chat.frame(customer)
        assert hello["type"] == "session" and hello["state"] == "active" and hello["you"] == "customer"
        async with chat.connect(session_id, chat.technician(), header=True) as technician:
            joined = await chat.frame_of(customer, "message")
            assert joined["author"] == "system"
            assert joined["text"] == "Ana (technician) has joined the chat."

            for n in range(5):
                await customer.send(json.dumps({"type": "message", "text": f"customer {n}"}))
                await technician.send(json.dumps({"type": "message", "text": f"technician {n}"}))
            seen_by_customer = await chat.messages(customer, 10)
            seen_by_technician = [m for m in await chat.messages(technician, 11) if m["author"] != "system"]

    assert seen_by_customer == seen_by_technician
    seqs = [m["seq"] for m in seen_by_customer]
    assert seqs == sorted(seqs) and len(set(seqs)) == 10
    # Each side's own messages keep the order they were sent in.
    assert [m["text"] for m in seen_by_customer if m["author"] == "customer"] == [f"customer {n}" for n in range(5)]
    assert [m["text"] for m in seen_by_customer if m["author"] == "technician"] == [f"technician {n}" for n in range(5)]

    stored = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.technician()))).json()
    assert [m["id"] for m in stored["messages"]] == [joined["id"]] + [m["id"] for m in seen_by_customer]
    assert all(m["sent_at"] for m in stored["messages"])


async def test_text_is_kept_as_typed_never_turned_into_html(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    script = "<img src=x onerror=alert(1)> & <b>bold</b>"
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        await customer.send(json.dumps({"type": "message", "text": script}))
        echoed = await chat.frame_of(customer, "message")
    assert echoed["text"] == script
    transcript = await chat.http.get(f"/sessions/{session_id}/transcript", headers=chat.auth(chat.customer(request_id)))
    assert transcript.headers["content-type"].startswith("text/plain")
    assert script in transcript.text


async def test_typing_reaches_the_other_side_only(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        async with chat.connect(session_id, chat.technician()) as technician:
            await chat.frame_of(customer, "message", author="system")
            await customer.send('{"type": "typing"}')
            assert await chat.frame_of(technician, "typing") == {"type": "typing", "author": "customer"}
            # Barrier: a message sent after the typing frame reaches the customer after any
            # typing frame would have (one ordered queue per socket).
            await technician.send('{"type": "message", "text": "barrier"}')
            before = await chat.until(customer, "message", text="barrier")
            assert not [f for f in before if f["type"] == "typing"]


async def test_a_reconnecting_client_gets_exactly_what_it_missed(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.technician()) as technician:
        await chat.frame_of(technician, "message", author="system")  # has joined
        async with chat.connect(session_id, chat.customer(request_id)) as customer:
            await customer.send('{"type": "message", "text": "before the tunnel"}')
            last_seen = await chat.frame_of(customer, "message", author="customer")
        await chat.frame_of(technician, "message", author="customer")
        for n in range(3):
            await technician.send(json.dumps({"type": "message", "text": f"while away {n}"}))
        await chat.messages(technician, 3)

        async with chat.connect(session_id, chat.customer(request_id), after=last_seen["id"]) as customer:
            assert (await chat.frame(customer))["type"] == "session"
            missed = await chat.messages(customer, 3)
            assert [m["text"] for m in missed] == [f"while away {n}" for n in range(3)]
            # Barrier: the customer's own next message comes right after what was missed.
            await customer.send('{"type": "message", "text": "back"}')
            before = await chat.until(customer, "message", text="back")
            assert not [f for f in before[:-1] if f["type"] == "message"]

            # The same over the open socket, e.g. after a page woke up from sleep.
            await customer.send(json.dumps({"type": "resume", "after": last_seen["id"]}))
            assert [m["id"] for m in await chat.messages(customer, 3)] == [m["id"] for m in missed]

        # Without `after` a client gets the whole history.
        async with chat.connect(session_id, chat.customer(request_id)) as customer:
            await chat.frame(customer)
            history = await chat.messages(customer, 6)
            authors = ["system", "customer", "technician", "technician", "technician", "customer"]
            assert [m["author"] for m in history] == authors


async def test_a_retried_message_with_the_same_client_id_is_stored_once(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    frame = json.dumps({"type": "message", "text": "did this go through?", "client_id": "c-1"})
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        await customer.send(frame)
        first = await chat.frame_of(customer, "message")
    async with chat.connect(session_id, chat.customer(request_id), after=first["id"]) as customer:
        await customer.send(frame)
        again = await chat.frame_of(customer, "message")
    assert again["id"] == first["id"] and again["client_id"] == "c-1"
    stored = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.customer(request_id)))).json()
    assert [m["text"] for m in stored["messages"]] == ["did this go through?"]


async def test_resuming_after_an_unknown_message_is_refused_with_a_reason(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.customer(request_id), after="cht_other:3") as customer:
        frames, code, reason = await chat.closed(customer)
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "unknown_message"
    assert code == 1008 and reason.startswith("unknown_message")
