"""Business hours (open, next opening, wording) and the queue's wait estimate: pure rules."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from portal_svc.domain.hours import BusinessHours, open_state, reopening_text
from portal_svc.domain.waits import estimate_wait, newest_handling

OFFICE = BusinessHours.model_validate(
    {
        "time_zone": "Europe/Paris",
        "weekly": {d: [{"opens": "09:00", "closes": "17:00"}] for d in ("mon", "tue", "wed", "thu", "fri")},
        "closures": [{"date": "2026-12-25", "note": "Christmas Day"}],
    }
)


def test_open_during_hours_in_the_portal_time_zone():
    # Tuesday 1 Dec 2026, 09:30 in Paris is 08:30 UTC.
    assert open_state(OFFICE, datetime(2026, 12, 1, 8, 30, tzinfo=UTC)).open
    assert not open_state(OFFICE, datetime(2026, 12, 1, 7, 59, tzinfo=UTC)).open


def test_closed_after_hours_opens_next_working_morning():
    friday_evening = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)  # 19:00 in Paris
    state = open_state(OFFICE, friday_evening)
    assert not state.open and state.next_open is not None
    assert (state.next_open.weekday(), state.next_open.hour) == (0, 9)  # Monday 09:00
    assert reopening_text(state, friday_evening) == (
        "We are closed right now. We open again on Monday 7 December at 09:00 (Europe/Paris)."
    )


def test_a_dated_closure_closes_the_whole_day_and_says_why():
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    state = open_state(OFFICE, christmas)
    assert not state.open and state.closure_note == "Christmas Day"
    assert reopening_text(state, christmas).startswith("We are closed today (Christmas Day). We open again on Monday")


def test_no_hours_means_always_open():
    assert open_state(None, datetime(2026, 12, 25, 3, 0, tzinfo=UTC)).open


@pytest.mark.parametrize(
    ("hours", "fragment"),
    [
        ({"time_zone": "Nowhere/City", "weekly": {}}, "IANA time zone"),
        ({"time_zone": "UTC", "weekly": {"funday": []}}, "unknown weekday"),
        ({"time_zone": "UTC", "weekly": {"mon": [{"opens": "10:00", "closes": "09:00"}]}}, "must be after"),
        ({"time_zone": "UTC", "weekly": {"mon": [{"opens": "25:00", "closes": "26:00"}]}}, "pattern"),
    ],
)
def test_invalid_hours_are_refused_with_a_reason(hours, fragment):
    with pytest.raises(ValidationError) as error:
        BusinessHours.model_validate(hours)
    assert fragment in str(error.value)


def test_estimate_uses_the_median_and_the_technicians_serving():
    assert estimate_wait(1, [], serving=1) is None  # no history, no guess
    assert estimate_wait(2, [60, 60, 3600], serving=1) == 120  # one long chat does not dominate
    assert estimate_wait(3, [60], serving=2) == 120  # two serve in parallel: two rounds
    assert estimate_wait(1, [60], serving=0) == 60


def test_the_newest_handling_times_span_yesterday_and_today():
    yesterday = {"day": "2026-12-01", "handling": [10.0, 20.0, 30.0]}
    today = {"day": "2026-12-02", "handling": [40.0]}
    assert newest_handling([today, yesterday], 3) == [20.0, 30.0, 40.0]
    assert newest_handling([{"day": "2026-12-02"}], 3) == []
