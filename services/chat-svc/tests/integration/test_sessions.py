"""Sessions open once per assignment, follow re-assignments, and close on cancellation."""

import pytest

from testkit import eventually

pytestmark = pytest.mark.integration


async def test_a_session_opens_once_however_often_the_assignment_arrives(chat):
    request_id = chat.new_request()
    assigned = chat.assigned(request_id)
    await chat.publish(assigned)
    await chat.publish(assigned)  # a redelivery
    await chat.publish(chat.assigned(request_id))  # the same assignment, published twice
    started = await chat.started(request_id)
    assert started["data"]["session_id"] == chat.session_of(request_id)
    assert started["data"]["technician_id"] == "tec_ana"
    assert started["correlation_id"] == request_id
    await chat.barrier()  # all three deliveries consumed
    assert len(chat.events("ChatSessionStarted", request_id)) == 1

    response = await chat.http.get(f"/sessions/{chat.session_of(request_id)}", headers=chat.auth(chat.technician()))
    assert response.status_code == 200
    assert response.json()["session"]["state"] == "active"
    assert response.json()["session"]["customer_name"] == "Carla"


async def test_a_queue_reassignment_transfers_the_session_to_the_new_technician(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id, "tec_ana")
    async with chat.connect(session_id, chat.customer(request_id)) as customer:
        async with chat.connect(session_id, chat.technician("tec_ana")) as ana:
            await chat.frame_of(ana, "message", author="system")
            await chat.publish(chat.assigned(request_id, "tec_bob", assignment=2))
            _frames, code, reason = await chat.closed(ana)
            assert code == 1008 and "transferred" in reason
        notice = await chat.frame_of(
            customer, "message", author="system", text="The chat was transferred to another technician."
        )
        assert notice["seq"] > 1
        await chat.frame_of(customer, "session", technician_id="tec_bob")

        # Ana can no longer join; Bob can, and a stale assignment changes nothing.
        async with chat.connect(session_id, chat.technician("tec_ana")) as ana_again:
            _, code, _ = await chat.closed(ana_again)
            assert code == 1008
        await chat.publish(chat.assigned(request_id, "tec_ana", assignment=1))
        await chat.barrier()  # the stale assignment was consumed
        async with chat.connect(session_id, chat.technician("tec_bob", name="Bob")) as bob:
            joined = await chat.frame_of(bob, "message", text="Bob (technician) has joined the chat.")
            assert joined["author"] == "system"
            await bob.send('{"type": "message", "text": "Bob here"}')
            assert (await chat.frame_of(customer, "message", author="technician"))["text"] == "Bob here"
    assert len(chat.events("ChatSessionStarted", request_id)) == 1
    detail = await chat.http.get(f"/sessions/{session_id}", headers=chat.auth(chat.admin()))
    assert detail.json()["session"]["technician_id"] == "tec_bob"


async def test_cancelling_the_request_ends_the_session_as_ended_by_the_customer(chat):
    request_id = chat.new_request()
    session_id = await chat.open(request_id)
    async with chat.connect(session_id, chat.technician()) as technician:
        await chat.frame_of(technician, "message", author="system")
        await chat.cancel(request_id, "tec_ana")
        ended = await chat.ended(request_id)
        assert ended["data"]["ended_by"] == "customer"
        assert ended["data"]["outcome"] == "unknown"
        assert ended["data"]["technician_id"] == "tec_ana"
        frames, code, _ = await chat.closed(technician)
        assert code == 1000
        assert {"type": "session", "state": "completed"}.items() <= frames[-1].items()


async def test_an_assignment_arriving_after_the_cancellation_opens_nothing(chat):
    request_id = chat.new_request()
    await chat.cancel(request_id)
    sessions = chat.service.handlers.lifecycle.sessions

    async def marked() -> bool:
        document = await sessions.raw(chat.session_of(request_id))
        return document is not None and document["state"] == "cancelled"

    await eventually(marked, timeout=10, what="the cancellation marker")
    await chat.publish(chat.assigned(request_id))
    await chat.barrier()  # the late assignment was consumed
    assert chat.events("ChatSessionStarted", request_id) == []
    response = await chat.http.get(f"/sessions/{chat.session_of(request_id)}", headers=chat.auth(chat.admin()))
    assert response.status_code == 404
