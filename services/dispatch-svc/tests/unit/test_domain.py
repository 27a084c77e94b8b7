"""The pure rules: transitions, round robin, access, connection codes."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.vocabulary import RejectionReason
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.codes import classify_code, new_code, retired_status
from dispatch_svc.domain.request import FINISHED, Command, IllegalTransition, State
from dispatch_svc.domain.technician import accessible_companies, may_serve, round_robin, routable_for

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def technician(name: str, last: datetime | None, active: int = 0, capacity: int = 2) -> dict:
    return {"_id": name, "last_assigned_at": last, "active": [f"r{i}" for i in range(active)], "capacity": capacity}


def test_round_robin_prefers_the_oldest_last_assignment_then_the_id():
    order = round_robin(
        [
            technician("tec_c", NOW),
            technician("tec_b", None),
            technician("tec_a", None),
            technician("tec_d", NOW - timedelta(minutes=5)),
            technician("tec_full", None, active=2),
        ]
    )
    assert [t["_id"] for t in order] == ["tec_a", "tec_b", "tec_d", "tec_c"]


def test_a_technician_who_let_the_request_lapse_comes_last():
    order = round_robin([technician("tec_a", None), technician("tec_b", NOW)], passed_over=["tec_a"])
    assert [t["_id"] for t in order] == ["tec_b", "tec_a"]


def test_finished_requests_take_no_further_step():
    for state in FINISHED:
        for command in Command:
            if command is Command.CLOSE_HANDOVERS and state is not State.REJECTED:
                # Only letting go of what an ended chat left (guests, a pending hand-over): same state.
                assert requests.next_state(state, command) is state
            elif command is not Command.FENCE:
                assert not requests.allows(state, command), (state, command)


def test_an_assigned_request_cannot_be_assigned_again():
    request = {"_id": "req", "state": State.ASSIGNED, "technician_id": "tec_a", "assignment": 1}
    with pytest.raises(IllegalTransition):
        requests.assign(request, "tec_b", NOW, acknowledged=True)


def test_requeue_keeps_the_place_in_line_and_passes_over_the_technician():
    request = {"_id": "req", "state": State.ASSIGNED, "technician_id": "tec_a", "assignment": 1}
    change = requests.requeue(request)
    assert change.set == {"state": State.QUEUED, "passed_over": ["tec_a"]}
    assert "technician_id" in change.unset and "queued_since" not in change.unset
    again = requests.assign({**request, **change.set}, "tec_b", NOW, acknowledged=False)
    assert again.set["assignment"] == 2


def test_routable_only_when_the_admin_record_and_presence_agree():
    ana = {
        "_id": "tec_ana",
        "enabled": True,
        "company_ids": ["cmp_x"],
        "available": True,
        "available_for": ["cmp_x", "cmp_y"],
    }
    assert routable_for(ana, "cmp_x")
    assert not routable_for(ana, "cmp_y")  # presence still lists Y; the admin removed it
    assert not routable_for({**ana, "available_for": []}, "cmp_x")
    assert not routable_for({**ana, "enabled": False}, "cmp_x")


def test_access_follows_the_record_not_the_token():
    record = {"_id": "tec_ana", "enabled": True, "company_ids": ["cmp_x"]}
    assert accessible_companies(record, ["cmp_x", "cmp_y"]) == ["cmp_x"]
    assert accessible_companies({**record, "enabled": False}, ["cmp_x"]) == []
    assert accessible_companies(None, ["cmp_x"]) == ["cmp_x"]  # not heard of yet: the token decides
    assert may_serve(record, "cmp_x") and not may_serve(record, "cmp_y") and not may_serve(None, "cmp_x")


def code(**fields) -> dict:
    return {"company_id": "cmp", "expires_at": NOW + timedelta(minutes=1), "used_by": None, "revoked": False, **fields}


def classify(live=None, retired=None):
    return classify_code(live, retired, company_id="cmp", request_id="req", now=NOW)


def test_code_classification():
    assert classify(code()) is None
    assert classify(code(used_by="req")) is None  # a redelivery of the request that used it
    assert classify(code(used_by="other")) is RejectionReason.USED_CODE
    assert classify(code(expires_at=NOW)) is RejectionReason.EXPIRED_CODE
    assert classify(code(revoked=True)) is RejectionReason.INVALID_CODE
    assert classify(code(company_id="elsewhere")) is RejectionReason.INVALID_CODE
    assert classify() is RejectionReason.INVALID_CODE
    assert classify(retired=code(status="used", used_by="other")) is RejectionReason.USED_CODE
    assert classify(retired=code(status="expired")) is RejectionReason.EXPIRED_CODE
    assert classify(retired=code(status="revoked")) is RejectionReason.INVALID_CODE
    assert retired_status(code(revoked=True, used_by="x")) == "revoked"


def test_codes_are_nine_digits():
    drawn = {new_code() for _ in range(200)}
    assert all(len(c) == 9 and c.isdigit() for c in drawn) and len(drawn) > 190
