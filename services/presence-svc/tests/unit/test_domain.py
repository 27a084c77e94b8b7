"""The availability and alert rules, without I/O."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from contracts.vocabulary import UnavailableReason
from presence_svc.domain.alerts import Alert, AlertKind, may_alert, still_visible
from presence_svc.domain.availability import (
    BecameAvailable,
    BecameUnavailable,
    ChosenStatus,
    Routing,
    Technician,
    next_change,
)
from presence_svc.domain.errors import DuplicateContact, TooManyContacts, UnknownContact
from presence_svc.domain.preferences import MAX_CONTACTS, Preferences


def tech(**changes) -> Technician:
    fields = dict(
        technician_id="tec_a",
        account_id="acc",
        display_name="Ana",
        company_ids=("c1", "c2"),
        capacity=2,
        enabled=True,
        chosen=ChosenStatus.AVAILABLE,
        sequence=0,
        published=None,
    )
    return Technician(**{**fields, **changes})


def test_available_and_live_is_announced_with_the_active_portal_companies_only():
    change = next_change(tech(), live=True, active_portal_companies={"c2", "c9"})
    assert change == BecameAvailable(Routing(("c2",), 2, "Ana"), sequence=1)


def test_nothing_to_say_when_routing_already_knows():
    published = Routing(("c1",), 2, "Ana")
    assert next_change(tech(published=published, sequence=4), live=True, active_portal_companies={"c1"}) is None
    assert next_change(tech(chosen=ChosenStatus.UNAVAILABLE), live=True, active_portal_companies={"c1"}) is None


@pytest.mark.parametrize(
    ("changes", "live", "active", "reason"),
    [
        ({"chosen": ChosenStatus.UNAVAILABLE}, True, {"c1"}, UnavailableReason.CHOSEN),
        ({}, False, {"c1"}, UnavailableReason.DISCONNECTED),
        ({"enabled": False}, True, {"c1"}, UnavailableReason.ACCESS_REVOKED),
        ({}, True, set(), UnavailableReason.ACCESS_REVOKED),
    ],
)
def test_losing_any_condition_is_one_unavailable_event(changes, live, active, reason):
    was = tech(published=Routing(("c1",), 2, "Ana"), sequence=3, **changes)
    assert next_change(was, live=live, active_portal_companies=active) == BecameUnavailable(("c1",), reason, 4)


def test_a_capacity_change_of_an_available_technician_is_announced_again():
    was = tech(published=Routing(("c1",), 2, "Ana"), sequence=1, capacity=5)
    assert next_change(was, live=True, active_portal_companies={"c1"}) == BecameAvailable(Routing(("c1",), 5, "Ana"), 2)


def alert(company: str = "c1", account: str = "acc") -> Alert:
    now = datetime.now(UTC)
    return Alert(
        "req", "tec_a", account, company, "Bob", "", "smart_box", now + timedelta(seconds=30), AlertKind.OFFER, now
    )


def test_alerts_go_only_to_connected_available_technicians_of_the_company():
    assert may_alert(tech(), alert(), connected=True)
    assert not may_alert(tech(), alert(), connected=False)
    assert not may_alert(tech(chosen=ChosenStatus.UNAVAILABLE), alert(), connected=True)
    assert not may_alert(tech(), alert(company="c_other"), connected=True)
    assert not may_alert(tech(), alert(account="acc_other"), connected=True)
    assert not may_alert(None, alert(), connected=True)


def test_access_follows_the_current_record_not_the_alert():
    assert still_visible(tech(), alert())
    assert not still_visible(tech(company_ids=("c2",)), alert())  # company taken away
    assert not still_visible(tech(enabled=False), alert())  # removed from the account
    assert not may_alert(tech(enabled=False), alert(), connected=True)


def test_an_alert_email_keeps_one_message_id_and_a_newer_alert_gets_another():
    first = alert()
    again = Alert(**{**first.__dict__})
    assert again.message_id == first.message_id
    newer = Alert(**{**first.__dict__, "issued_at": first.issued_at + timedelta(seconds=1)})
    assert newer.message_id != first.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith(">") and "req" in first.message_id


def test_contacts_are_validated_unique_and_bounded():
    prefs = Preferences().with_contact("a@example.com")
    with pytest.raises(DuplicateContact):
        prefs.with_contact("a@example.com")
    with pytest.raises(UnknownContact):
        prefs.without_contact("b@example.com")
    for i in range(MAX_CONTACTS - 1):
        prefs = prefs.with_contact(f"c{i}@example.com")
    with pytest.raises(TooManyContacts):
        prefs.with_contact("late@example.com")
    with pytest.raises(ValidationError):
        Preferences(contacts=["nope"])
    assert not Preferences(email_alerts=True).wants_email
    assert Preferences(email_alerts=True, contacts=["a@example.com"]).wants_email
