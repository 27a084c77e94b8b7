"""The pure rules of a transfer: who may offer a chat to whom, and the steps it takes."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.vocabulary import TransferLapseReason
from dispatch_svc.domain import transfer
from dispatch_svc.domain.request import IllegalTransition, State

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
COMPANY = "cmp_a"


def chat(**extra) -> dict:
    return {
        "_id": "req_1",
        "account_id": "acc",
        "company_id": COMPANY,
        "customer_name": "Carla",
        "state": State.ASSIGNED,
        "technician_id": "tec_ana",
        "assigned_at": NOW - timedelta(minutes=3),
        "assignment": 1,
        "acknowledged": True,
        **extra,
    }


def colleague(name: str = "tec_ben", *, available: bool = True, active: int = 0, companies=(COMPANY,)) -> dict:
    return {
        "_id": name,
        "display_name": name.removeprefix("tec_").title(),
        "company_ids": list(companies),
        "available_for": list(companies),
        "available": available,
        "enabled": True,
        "capacity": 1,
        "active": [f"r{i}" for i in range(active)],
    }


def code_of(refusal) -> str | None:
    return None if refusal is None else refusal.code


@pytest.mark.parametrize(
    ("request_", "me", "to", "code"),
    [
        (chat(), "tec_ana", colleague(), None),
        (chat(), "tec_cy", colleague(), "not_your_chat"),
        (chat(state=State.COMPLETED), "tec_ana", colleague(), "not_your_chat"),
        (chat(acknowledged=False), "tec_ana", colleague(), "not_acknowledged"),
        (chat(), "tec_ana", colleague("tec_ana"), "transfer_to_yourself"),
        (chat(), "tec_ana", None, "not_a_colleague"),
        (chat(), "tec_ana", colleague(companies=("cmp_other",)), "not_a_colleague"),
        (chat(), "tec_ana", colleague(available=False), "colleague_unavailable"),
        (chat(), "tec_ana", colleague(active=1), "colleague_full"),
        (
            chat(transfer={"to": "tec_ben", "to_name": "Ben", "expires_at": NOW + timedelta(seconds=5)}),
            "tec_ana",
            colleague(),
            "transfer_pending",
        ),
        (
            chat(transfer={"to": "tec_ben", "to_name": "Ben", "expires_at": NOW - timedelta(seconds=1)}),
            "tec_ana",
            colleague(),
            None,
        ),
    ],
)
def test_who_may_offer_a_chat_to_whom(request_, me, to, code):
    assert code_of(transfer.refusal(request_, me, to, NOW)) == code


def test_refusals_name_the_colleague():
    assert transfer.refusal(chat(), "tec_ana", colleague(available=False), NOW).message == (
        "Ben is not available for chat requests right now"
    )


def test_an_accepted_transfer_is_a_new_assignment_of_the_colleague():
    offer = transfer.offer(
        chat(), {"_id": "tec_ana", "display_name": "Ana"}, colleague(), "note", NOW, NOW + timedelta(minutes=1)
    )
    pending = chat(transfer=offer.set["transfer"])
    assert transfer.pending(pending)["to"] == "tec_ben"
    assert transfer.offered_event(chat(), offer).note == "note"

    accepted = transfer.accept(pending, NOW)
    assert accepted.set["technician_id"] == "tec_ben"
    assert accepted.set["assignment"] == 2 and accepted.set["assigned_at"] == NOW
    assert accepted.set["state"] == State.ASSIGNED and "transfer" in accepted.unset
    event = transfer.transferred_event(pending, accepted)
    assert (event.from_name, event.to_name, event.assignment) == ("Ana", "Ben", 2)

    lapsed = transfer.lapsed_event(pending, TransferLapseReason.DECLINED)
    assert (lapsed.from_technician_id, lapsed.to_technician_id, lapsed.reason) == ("tec_ana", "tec_ben", "declined")
    assert transfer.drop(pending).unset == ("transfer",)


def test_a_finished_request_cannot_be_transferred():
    with pytest.raises(IllegalTransition):
        transfer.accept(chat(state=State.COMPLETED, transfer={"to": "tec_ben", "from": "tec_ana"}), NOW)
    assert transfer.pending(chat(state=State.COMPLETED, transfer={"to": "tec_ben"})) is None
