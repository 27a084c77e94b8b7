"""The pure rules of an invitation to join a chat: who may invite whom, the steps it takes,
and what an ended chat lets go of."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.vocabulary import TransferLapseReason
from dispatch_svc.domain import invitation, transfer
from dispatch_svc.domain.request import IllegalTransition, State, guest_ids

from .test_transfer_rules import chat, code_of, colleague

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
MAX = 3


def guest(technician_id: str, name: str = "") -> dict:
    return {
        "technician_id": technician_id,
        "name": name or technician_id.removeprefix("tec_").title(),
        "joined_at": NOW - timedelta(minutes=1),
        "invited_by": "tec_ana",
    }


def pending(to: str = "tec_ben", expires_in: float = 5) -> dict:
    return {
        "from": "tec_ana",
        "to": to,
        "to_name": to.removeprefix("tec_").title(),
        "expires_at": NOW + timedelta(seconds=expires_in),
    }


@pytest.mark.parametrize(
    ("request_", "me", "to", "code"),
    [
        (chat(), "tec_ana", colleague(), None),
        (chat(), "tec_cy", colleague(), "not_your_chat"),
        (chat(guests=[guest("tec_cy")]), "tec_cy", colleague(), "not_your_chat"),  # a guest does not invite
        (chat(state=State.COMPLETED), "tec_ana", colleague(), "not_your_chat"),
        (chat(acknowledged=False), "tec_ana", colleague(), "not_acknowledged"),
        (chat(), "tec_ana", colleague("tec_ana"), "already_in_chat"),
        (chat(guests=[guest("tec_ben")]), "tec_ana", colleague(), "already_in_chat"),
        (chat(guests=[guest("tec_cy"), guest("tec_dan")]), "tec_ana", colleague(), "chat_full"),
        (chat(guests=[guest("tec_cy")]), "tec_ana", colleague(), None),
        (chat(), "tec_ana", None, "not_a_colleague"),
        (chat(), "tec_ana", colleague(companies=("cmp_other",)), "not_a_colleague"),
        (chat(), "tec_ana", colleague(available=False), "colleague_unavailable"),
        (chat(), "tec_ana", colleague(active=1), "colleague_full"),
        (chat(invitation=pending("tec_cy")), "tec_ana", colleague(), "invitation_pending"),
        (chat(transfer=pending("tec_cy")), "tec_ana", colleague(), "transfer_pending"),
        (chat(invitation=pending("tec_cy", expires_in=-1)), "tec_ana", colleague(), None),
    ],
)
def test_who_may_invite_whom(request_, me, to, code):
    assert code_of(invitation.refusal(request_, me, to, NOW, max_technicians=MAX)) == code


def test_one_pending_hand_over_at_a_time_and_no_transfer_to_a_guest():
    assert code_of(transfer.refusal(chat(invitation=pending()), "tec_ana", colleague("tec_cy"), NOW)) == (
        "invitation_pending"
    )
    assert code_of(transfer.refusal(chat(guests=[guest("tec_ben")]), "tec_ana", colleague(), NOW)) == (
        "already_in_chat"
    )
    assert code_of(transfer.return_refusal(chat(mode="queue", guests=[guest("tec_ben")]), "tec_ana", NOW)) == (
        "colleagues_in_chat"
    )


def test_refusals_are_sentences():
    full = invitation.refusal(
        chat(guests=[guest("tec_cy"), guest("tec_dan")]), "tec_ana", colleague(), NOW, max_technicians=MAX
    )
    assert full.message == "this chat already has 3 technicians, the most one chat can have"
    inside = invitation.refusal(chat(guests=[guest("tec_ben")]), "tec_ana", colleague(), NOW, max_technicians=MAX)
    assert inside.message == "Ben is already in this chat"


def test_invite_join_leave():
    invite = invitation.invite(
        chat(), {"_id": "tec_ana", "display_name": "Ana"}, colleague(), "note", NOW, NOW + timedelta(minutes=1)
    )
    assert invite.set["invitation"]["to"] == "tec_ben" and invite.unset == ()
    invited = chat(invitation=invite.set["invitation"])
    event = invitation.invited_event(chat(), invite)
    assert (event.from_name, event.to_name, event.note, event.assignment) == ("Ana", "Ben", "note", 1)

    joined = invitation.join(invited, NOW)
    assert joined.set["state"] == State.ASSIGNED and "invitation" in joined.unset
    assert joined.set["guests"][-1]["joined_at"] == NOW and joined.set["guest_seq"] == 1
    assert "technician_id" not in joined.set  # the chat stays Ana's
    now_in = chat(guests=joined.set["guests"], guest_seq=1)
    assert guest_ids(now_in) == ["tec_ben"] and invitation.is_guest(now_in, "tec_ben")
    event = invitation.joined_event(invited, joined)
    assert (event.technician_id, event.name, event.sequence, event.technicians) == ("tec_ben", "Ben", 1, 2)

    left = invitation.leave(now_in, "tec_ben")
    assert left.set["guests"] == [] and left.set["guest_seq"] == 2
    event = invitation.left_event(now_in, left, "tec_ben")
    assert (event.name, event.reason, event.sequence, event.technicians) == ("Ben", "left", 2, 1)

    lapsed = invitation.lapsed(invited, TransferLapseReason.DECLINED)
    assert (lapsed.from_technician_id, lapsed.to_technician_id, lapsed.reason) == ("tec_ana", "tec_ben", "declined")
    assert invitation.drop(invited).unset == ("invitation",)


def test_an_expired_hand_over_is_replaced_by_the_next_one():
    stale = chat(transfer=pending("tec_cy", expires_in=-1))
    invite = invitation.invite(stale, {"_id": "tec_ana"}, colleague(), "", NOW, NOW + timedelta(minutes=1))
    assert invite.unset == ("transfer",)
    offer = transfer.offer(
        chat(invitation=pending("tec_cy", expires_in=-1)), {"_id": "tec_ana"}, colleague(), "", NOW, NOW
    )
    assert offer.unset == ("invitation",)


def test_an_ended_chat_lets_its_guests_go_and_drops_what_was_pending():
    ended = chat(
        state=State.COMPLETED,
        guests=[guest("tec_ben"), guest("tec_cy")],
        guest_seq=2,
        invitation=pending("tec_dan"),
    )
    assert invitation.needs_closing(ended)
    change = invitation.close(ended)
    assert change.set["state"] == State.COMPLETED and change.set["guests"] == []
    assert [g["technician_id"] for g in change.set["former_guests"]] == ["tec_ben", "tec_cy"]
    assert set(change.unset) == {"transfer", "invitation"}
    events = invitation.closed_events(ended)
    assert [type(e).__name__ for e in events] == [
        "RequestInvitationLapsed",
        "RequestColleagueLeft",
        "RequestColleagueLeft",
    ]
    assert events[0].reason == "chat_ended"
    assert [(e.technician_id, e.reason, e.sequence) for e in events[1:]] == [
        ("tec_ben", "chat_ended", 3),
        ("tec_cy", "chat_ended", 4),
    ]
    with_transfer = chat(state=State.COMPLETED, transfer=pending())
    assert [e.reason for e in invitation.closed_events(with_transfer)] == ["chat_ended"]
    assert not invitation.needs_closing(chat(state=State.COMPLETED, former_guests=[guest("tec_ben")], guests=[]))
    assert not invitation.needs_closing(chat(guests=[guest("tec_ben")]))  # still open


def test_a_finished_request_takes_no_guest():
    with pytest.raises(IllegalTransition):
        invitation.join(chat(state=State.COMPLETED, invitation=pending()), NOW)
    assert transfer.pending_invitation(chat(state=State.COMPLETED, invitation=pending())) is None
