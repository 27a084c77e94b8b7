"""Pure rules of the chat domain."""

from datetime import UTC, datetime

import pytest

from contracts.vocabulary import EndedBy, SessionOutcome
from servicekit.auth import Principal, Role

from chat_svc.domain.access import ensure_can_read, join_as
from chat_svc.domain.errors import EmptyMessage, MessageTooLong, NotYourSession, OutcomeRequired, WrongRole
from chat_svc.domain.model import Author, ChatSession, Message, SessionState
from chat_svc.domain.ratelimit import TokenBucket
from chat_svc.domain.rules import clean_text, ending
from chat_svc.domain.transcript import render_transcript

SESSION = ChatSession(
    session_id="cht_req_1",
    request_id="req_1",
    account_id="acc",
    company_id="cmp",
    technician_id="tec_ana",
    customer_name="Carla",
    description="",
    assignment=1,
    state=SessionState.ACTIVE,
    opened_at=datetime(2026, 1, 2, 9, 0, tzinfo=UTC),
)


def principal(role: Role, subject: str, **fields) -> Principal:
    return Principal(subject=subject, role=role, account_id=fields.pop("account_id", "acc"), **fields)


def test_the_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket(rate=5, burst=10)
    assert all(bucket.take(0.0) for _ in range(10))
    assert not bucket.take(0.0)
    assert bucket.take(0.2) and not bucket.take(0.2)
    assert all(bucket.take(100.0) for _ in range(10)) and not bucket.take(100.0)


def test_who_joins_as_whom():
    customer = principal(Role.CUSTOMER, "req_1", request_id="req_1", company_ids=["cmp"])
    assert join_as(customer, SESSION) is Author.CUSTOMER
    assert join_as(principal(Role.TECHNICIAN, "tec_ana", company_ids=["cmp"]), SESSION) is Author.TECHNICIAN
    with pytest.raises(NotYourSession):
        join_as(principal(Role.CUSTOMER, "req_2", request_id="req_2"), SESSION)
    with pytest.raises(NotYourSession):  # access to the company was withdrawn
        join_as(principal(Role.TECHNICIAN, "tec_ana", company_ids=[]), SESSION)
    with pytest.raises(NotYourSession):
        join_as(principal(Role.TECHNICIAN, "tec_ana", company_ids=["cmp"], account_id="acc_other"), SESSION)
    with pytest.raises(WrongRole):
        join_as(principal(Role.ADMIN, "adm"), SESSION)


def test_who_reads():
    ensure_can_read(principal(Role.ADMIN, "adm"), SESSION)
    ensure_can_read(principal(Role.TECHNICIAN, "tec_zoe", company_ids=["cmp"]), SESSION)
    for outsider in (
        principal(Role.ADMIN, "adm", account_id="acc_other"),
        principal(Role.TECHNICIAN, "tec_ana", company_ids=["cmp_other"]),
        principal(Role.SERVICE, "dispatch-svc", account_id="*"),
    ):
        with pytest.raises(NotYourSession):
            ensure_can_read(outsider, SESSION)


def test_text_rules():
    assert clean_text("  <b>hi</b>\n", 20) == "<b>hi</b>"
    with pytest.raises(EmptyMessage):
        clean_text(" \n ", 20)
    with pytest.raises(MessageTooLong):
        clean_text("x" * 21, 20)


def test_only_the_technician_judges_the_outcome():
    assert ending(Author.CUSTOMER, SessionOutcome.RESOLVED) == (EndedBy.CUSTOMER, SessionOutcome.UNKNOWN)
    assert ending(Author.TECHNICIAN, SessionOutcome.RESOLVED) == (EndedBy.TECHNICIAN, SessionOutcome.RESOLVED)
    with pytest.raises(OutcomeRequired):
        ending(Author.TECHNICIAN, None)


def test_a_transcript_line_cannot_be_forged_with_line_breaks():
    message = Message(
        id="cht_req_1:1",
        session_id="cht_req_1",
        seq=1,
        author=Author.CUSTOMER,
        text="hello\n[2026-01-02 09:00:00] Technician: I will refund you",
        sent_at=datetime(2026, 1, 2, 9, 0, 5, tzinfo=UTC),
        author_name="Carla",
    )
    text = render_transcript(SESSION, [message])
    assert "[2026-01-02 09:00:05] Customer (Carla): hello\n    [2026-01-02 09:00:00] Technician" in text
    assert text.startswith("Chat session cht_req_1 (request req_1)\nCustomer: Carla\n")
