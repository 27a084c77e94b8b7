"""Pure rules of the chat domain."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chat_svc.domain.access import ensure_can_read, is_guest, join_as, technician_companies
from chat_svc.domain.errors import (
    EmptyMessage,
    MessageTooLong,
    NotYourSession,
    OutcomeRequired,
    UnknownTechnician,
    WrongRole,
)
from chat_svc.domain.frames import session_frame
from chat_svc.domain.model import Author, ChatSession, Message, SessionState
from chat_svc.domain.ratelimit import TokenBucket
from chat_svc.domain.rules import clean_text, ending, joined_notice, left_notice
from chat_svc.domain.technicians import TechnicianAccess
from chat_svc.domain.transcript import neutral, render_transcript
from contracts.vocabulary import EndedBy, SessionOutcome
from servicekit.auth import Principal, Role

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


def record(technician_id: str, *companies: str, enabled: bool = True, account_id: str = "acc") -> TechnicianAccess:
    return TechnicianAccess(
        technician_id=technician_id,
        account_id=account_id,
        company_ids=frozenset(companies),
        enabled=enabled,
        revision=1,
    )


def test_the_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket(rate=5, burst=10)
    assert all(bucket.take(0.0) for _ in range(10))
    assert not bucket.take(0.0)
    assert bucket.take(0.2) and not bucket.take(0.2)
    assert all(bucket.take(100.0) for _ in range(10)) and not bucket.take(100.0)


def test_who_joins_as_whom():
    customer = principal(Role.CUSTOMER, "req_1", request_id="req_1", company_ids=["cmp"])
    assert join_as(customer, SESSION) is Author.CUSTOMER
    ana = principal(Role.TECHNICIAN, "tec_ana", company_ids=["cmp"])
    assert join_as(ana, SESSION, record("tec_ana", "cmp")) is Author.TECHNICIAN
    with pytest.raises(NotYourSession):
        join_as(principal(Role.CUSTOMER, "req_2", request_id="req_2"), SESSION)
    with pytest.raises(NotYourSession):  # access to the company was withdrawn: the token still claims it
        join_as(ana, SESSION, record("tec_ana", "cmp_other"))
    with pytest.raises(NotYourSession):  # removed from the account
        join_as(ana, SESSION, record("tec_ana", "cmp", enabled=False))
    with pytest.raises(UnknownTechnician):  # chat-svc never heard of them
        join_as(ana, SESSION, None)
    with pytest.raises(UnknownTechnician):  # someone else's record
        join_as(ana, SESSION, record("tec_zoe", "cmp"))
    with pytest.raises(NotYourSession):
        other_account = principal(Role.TECHNICIAN, "tec_ana", company_ids=["cmp"], account_id="acc_other")
        join_as(other_account, SESSION, record("tec_ana", "cmp", account_id="acc_other"))
    # A company added after the token was issued counts at once.
    assert join_as(principal(Role.TECHNICIAN, "tec_ana"), SESSION, record("tec_ana", "cmp")) is Author.TECHNICIAN
    with pytest.raises(WrongRole):
        join_as(principal(Role.ADMIN, "adm"), SESSION)


def test_an_invited_colleague_joins_while_in_the_chat_by_chat_svcs_own_record():
    bob = principal(Role.TECHNICIAN, "tec_bob")
    with pytest.raises(NotYourSession):  # not (or no longer) a guest
        join_as(bob, SESSION, record("tec_bob", "cmp"))
    shared = replace(SESSION, guests={"tec_bob": "Bob"})
    assert join_as(bob, shared, record("tec_bob", "cmp")) is Author.TECHNICIAN
    assert is_guest(bob, shared) and not is_guest(principal(Role.TECHNICIAN, "tec_ana"), shared)
    with pytest.raises(NotYourSession):  # lost the company meanwhile
        join_as(bob, shared, record("tec_bob", "cmp_other"))
    with pytest.raises(NotYourSession):  # the chat is over
        join_as(bob, replace(shared, state=SessionState.COMPLETED), record("tec_bob", "cmp"))
    assert joined_notice("Bob") == "Bob joined the chat." and left_notice("") == "A colleague left the chat."
    assert session_frame(shared)["guests"] == [{"technician_id": "tec_bob", "name": "Bob"}]


def test_who_reads():
    ensure_can_read(principal(Role.ADMIN, "adm"), SESSION)
    zoe = principal(Role.TECHNICIAN, "tec_zoe", company_ids=["cmp"])
    ensure_can_read(zoe, SESSION, record("tec_zoe", "cmp"))
    for outsider, access in (
        (principal(Role.ADMIN, "adm", account_id="acc_other"), None),
        (zoe, record("tec_zoe", "cmp_other")),
        (zoe, record("tec_zoe", "cmp", enabled=False)),
        (principal(Role.SERVICE, "dispatch-svc", account_id="*"), None),
    ):
        with pytest.raises(NotYourSession):
            ensure_can_read(outsider, SESSION, access)
    with pytest.raises(UnknownTechnician):
        ensure_can_read(zoe, SESSION, None)


def test_technicians_list_the_companies_of_their_record_not_their_token():
    ana = principal(Role.TECHNICIAN, "tec_ana", company_ids=["cmp", "cmp_gone"])
    assert technician_companies(ana, record("tec_ana", "cmp", "cmp_new")) == {"cmp", "cmp_new"}
    assert technician_companies(ana, record("tec_ana", "cmp", enabled=False)) == frozenset()
    assert technician_companies(ana, record("tec_ana", "cmp", account_id="acc_other")) == frozenset()
    with pytest.raises(UnknownTechnician):
        technician_companies(ana, None)


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
    assert "[2026-01-02 09:00:05] Customer (Carla): hello ⏎ [2026-01-02 09:00:00] Technician" in text
    assert text.startswith("Chat session cht_req_1 (request req_1)\nCustomer: Carla\n")
    assert_no_forged_line(text)


FORGED = "Casey\n[2020-01-01 00:00:00] Technician (x): send me your password"


def assert_no_forged_line(text: str) -> None:
    """Every line of the transcript is one the renderer wrote itself."""
    for line in text.splitlines():
        assert not line.startswith("[2020-01-01"), line
    lines = text.split("\n")
    assert len(lines) == len(text.splitlines()) or text.endswith("\n")
    for separator in ("\r", "\u2028", "\u2029", "\x85", "\v", "\f"):
        assert separator not in text


@pytest.mark.parametrize(
    "break_",
    ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\f", "\x1e"],
)
def test_no_field_of_the_transcript_can_start_a_line(break_: str):
    forged = FORGED.replace("\n", break_)
    session = SESSION.__class__(
        **{
            **SESSION.__dict__,
            "customer_name": forged,
            "state": SessionState.COMPLETED,
            "ended_at": datetime(2026, 1, 2, 9, 30, tzinfo=UTC),
            "ended_by": EndedBy.TECHNICIAN,
            "outcome": SessionOutcome.RESOLVED,
            "notes": forged,
        }
    )
    messages = [
        Message(
            id=f"cht_req_1:{n}",
            session_id="cht_req_1",
            seq=n,
            author=author,
            text=forged,
            sent_at=datetime(2026, 1, 2, 9, 0, n, tzinfo=UTC),
            author_name=forged,
        )
        for n, author in enumerate((Author.CUSTOMER, Author.TECHNICIAN, Author.SYSTEM), start=1)
    ]
    text = render_transcript(session, messages)
    assert_no_forged_line(text)
    # Header (3 lines + 2 for the end), blank line, one line per message.
    assert len(text.splitlines()) == 5 + 1 + len(messages)
    assert "Customer: Casey ⏎ [2020-01-01 00:00:00] Technician (x): send me your password" in text


def test_control_and_bidi_characters_are_made_visible():
    assert neutral("a\x00b\x1bc\x7fd") == "a\ufffdb\ufffdc\ufffdd"
    assert neutral("evil\u202etxt.exe\u2066x\u2069") == "evil\ufffdtxt.exe\ufffdx\ufffd"
    assert neutral("tab\there") == "tab here"
    # Ordinary text, accents and emoji (with zero-width joiners) are kept.
    assert neutral("José 👩\u200d💻 <b>") == "José 👩\u200d💻 <b>"
