"""A transfer between colleagues: the new technician takes the chat, the line "Ana transferred
the chat to Bob." reaches the customer and both technicians, and the one who left is let go."""

from datetime import UTC, datetime

import pytest

from chat_svc.domain.rules import BACK_TO_QUEUE_NOTICE
from contracts import Envelope, RequestReturnedToQueue, RequestTransferred

pytestmark = pytest.mark.integration


def transferred(request_id: str, *, assignment: int = 2) -> Envelope[RequestTransferred]:
    data = RequestTransferred(
        request_id=request_id,
        account_id="acc_chat",
        company_id="cmp_globex",
        from_technician_id="tec_ana",
        from_name="Ana",
        to_technician_id="tec_bob",
        to_name="Bob",
        note="Printer model X2",
        assignment=assignment,
        assigned_at=datetime.now(UTC),
    )
    return Envelope[RequestTransferred].of(data, producer="dispatch-svc", correlation_id=request_id)


async def test_a_transfer_moves_the_chat_and_tells_everyone(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id, "tec_ana")
    event = transferred(request_id)
    assert event.data.company_id == chat.assigned(request_id).data.company_id  # the fixture's company
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        async with chat.connect(session_id, chat.technician("tec_ana")) as ana:
            await chat.frame_of(ana, "message", author="system")  # Ana joined
            await chat.publish(event)
            await chat.publish(event)  # a redelivery changes nothing
            frames, code, reason = await chat.closed(ana)
            assert code == 1008 and "transferred" in reason
            lines = [f["text"] for f in frames if f["type"] == "message"]
            assert "Ana transferred the chat to Bob." in lines
        notice = await chat.frame_of(customer, "message", author="system", text="Ana transferred the chat to Bob.")
        await chat.frame_of(customer, "session", technician_id="tec_bob", technician_name="Bob")

        async with chat.connect(session_id, chat.technician("tec_ana")) as ana_again:
            _, code, _ = await chat.closed(ana_again)
            assert code == 1008
        async with chat.connect(session_id, chat.technician("tec_bob", name="Bob")) as bob:
            seen = await chat.frame_of(bob, "message", text="Bob (technician) has joined the chat.")
            assert seen["seq"] > notice["seq"]
            await bob.send('{"type": "message", "text": "Bob here"}')
            assert (await chat.frame_of(customer, "message", author="technician"))["text"] == "Bob here"

    await chat.publish(chat.assigned(request_id, "tec_ana", assignment=2))  # not newer: ignored
    await chat.barrier()
    detail = (await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))).json()
    assert detail["session"]["technician_id"] == "tec_bob"
    texts = [m["text"] for m in detail["messages"]]
    assert texts.count("Ana transferred the chat to Bob.") == 1
    transcript = await chat.http.get(f"/sessions/{session_id}/transcript", headers=chat.auth(chat.admin()))
    assert "--: Ana transferred the chat to Bob." in transcript.text
    assert len(chat.events("ChatSessionStarted", request_id)) == 1


def returned(request_id: str) -> Envelope[RequestReturnedToQueue]:
    data = RequestReturnedToQueue(
        request_id=request_id,
        account_id="acc_chat",
        company_id="cmp_globex",
        from_technician_id="tec_ana",
        from_name="Ana",
        mode="queue",
        note="Needs a network admin",
        assignment=1,
    )
    return Envelope[RequestReturnedToQueue].of(data, producer="dispatch-svc", correlation_id=request_id)


async def test_back_to_the_queue_the_customer_waits_in_the_same_chat(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id, "tec_ana")
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        async with chat.connect(session_id, chat.technician("tec_ana")) as ana:
            await chat.frame_of(ana, "message", author="system")
            await chat.publish(returned(request_id))
            frames, code, reason = await chat.closed(ana)
            assert code == 1008 and reason == "chat sent back to the queue"
        waiting = await chat.frame_of(customer, "message", author="system", text=BACK_TO_QUEUE_NOTICE)
        # Ana may no longer act on it, over the socket or HTTP.
        async with chat.connect(session_id, chat.technician("tec_ana")) as ana_again:
            frames, code, _ = await chat.closed(ana_again)
            assert code == 1008 and "back to the queue" in frames[0]["message"]
        ended = await chat.http.post(
            f"/sessions/{session_id}/end", json={"outcome": "resolved"}, headers=chat.auth(chat.technician("tec_ana"))
        )
        # Refused with the reason, though her socket had joined it (and this replica remembers).
        assert ended.status_code == 403 and "back to the queue" in ended.text, ended.text

        # The next assignment takes it over, in the same chat.
        await chat.publish(chat.assigned(request_id, "tec_bob", assignment=2))
        notice = await chat.frame_of(
            customer, "message", author="system", text="The chat was transferred to another technician."
        )
        assert notice["seq"] > waiting["seq"]
        async with chat.connect(session_id, chat.technician("tec_bob", name="Bob")) as bob:
            await chat.frame_of(bob, "message", text="Bob (technician) has joined the chat.")
            await bob.send('{"type": "message", "text": "Bob here"}')
            assert (await chat.frame_of(customer, "message", author="technician"))["text"] == "Bob here"
    assert len(chat.events("ChatSessionStarted", request_id)) == 1
