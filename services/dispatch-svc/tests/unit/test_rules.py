from datetime import UTC, datetime, timedelta

from contracts.vocabulary import RejectionReason

from dispatch_svc.domain.rules import classify_code, new_code, round_robin

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


def test_codes_are_nine_digits():
    drawn = {new_code() for _ in range(200)}
    assert all(len(c) == 9 and c.isdigit() for c in drawn) and len(drawn) > 190
