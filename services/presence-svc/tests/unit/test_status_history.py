"""The status history's paging and the shown state, on plain data."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.vocabulary import UnavailableReason
from presence_svc.domain.availability import ChosenStatus, Technician, shown_state
from presence_svc.domain.errors import InvalidCursor
from presence_svc.domain.status_history import Actor, Cursor, StatusEntry, paginate

DAY1, DAY2 = date(2026, 11, 30), date(2026, 12, 1)


def entries(day: date, count: int) -> list[StatusEntry]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [StatusEntry(start + timedelta(minutes=i), f"s{day.day}-{i}", Actor.SYSTEM) for i in range(count)]


def test_pages_walk_days_newest_first_without_gaps_or_repeats():
    by_day = {DAY1: entries(DAY1, 3), DAY2: entries(DAY2, 2)}
    seen, cursor = [], None
    while True:
        page = paginate([DAY2, DAY1], by_day, Cursor.decode(cursor) if cursor else None, 2)
        assert len(page.entries) <= 2
        seen += [e.state for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["s1-1", "s1-0", "s30-2", "s30-1", "s30-0"]


def test_a_full_last_page_has_no_next_cursor():
    page = paginate([DAY1], {DAY1: entries(DAY1, 2)}, None, 2)
    assert len(page.entries) == 2 and page.next_cursor is None


@pytest.mark.parametrize("raw", ["", "!!", "bm90LWEtY3Vyc29y", Cursor(DAY1, 0).encode()[:-2] + "x"])
def test_a_forged_cursor_is_refused(raw):
    with pytest.raises(InvalidCursor):
        Cursor.decode(raw or "=")


def technician(**changes) -> Technician:
    fields = dict(
        technician_id="tec_a",
        account_id="acc",
        display_name="A",
        company_ids=("cmp",),
        capacity=2,
        enabled=True,
        chosen=ChosenStatus.AVAILABLE,
        sequence=1,
        published=None,
    )
    return Technician(**{**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "live", "expected"),
    [
        ({}, True, "available"),
        ({}, False, "disconnected"),
        ({"chosen": ChosenStatus.UNAVAILABLE}, True, "chosen"),
        ({"chosen": ChosenStatus.UNAVAILABLE}, False, "chosen"),
        (
            {"chosen": ChosenStatus.UNAVAILABLE, "chosen_reason": UnavailableReason.MISSED_REQUESTS},
            True,
            "missed_requests",
        ),
        ({"enabled": False}, True, "access_revoked"),
    ],
)
def test_the_status_menu_says_why_someone_is_unavailable(changes, live, expected):
    assert shown_state(technician(**changes), live=live, active_portal_companies={"cmp"}) == expected
