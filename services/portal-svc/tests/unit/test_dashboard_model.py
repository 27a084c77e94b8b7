"""The dashboard read model's pure part: UTC day buckets, medians and p90s, pooled days."""

from datetime import UTC, date, datetime, timedelta, timezone

from portal_svc.domain.dashboard import (
    SAMPLE_CAP,
    DayShare,
    bucket_id,
    days_back,
    figures,
    median,
    percentile,
    request_figures,
    sample_push,
    with_unfinished,
)


def test_buckets_are_per_company_and_utc_day():
    late_in_berlin = datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert bucket_id("cmp_a", late_in_berlin) == "cmp_a:2026-02-28"  # 23:30 UTC the day before
    assert bucket_id("cmp_a", datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)) == "cmp_a:2026-03-01"
    assert bucket_id("cmp_a", datetime(2026, 3, 1, 12)) == "cmp_a:2026-03-01"  # naive = UTC
    assert bucket_id("cmp_b", date(2026, 3, 1)) != bucket_id("cmp_a", date(2026, 3, 1))
    assert days_back(date(2026, 3, 2), 3) == [date(2026, 2, 28), date(2026, 3, 1), date(2026, 3, 2)]


def test_median_and_nearest_rank_p90():
    assert median([]) is None and percentile([], 0.9) is None
    assert median([7, 1, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5
    values = list(range(1, 11))  # 1..10
    assert percentile(values, 0.9) == 9
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 101)), 0.9) == 90


def test_figures_pool_the_days_and_count_abandonment_and_satisfaction():
    today = {
        "requests": 4,
        "answered": 3,
        "abandoned": 1,
        "waits": [10, 20, 30],
        "handling": [300],
        "ratings": 2,
        "score_sum": 9,
    }
    yesterday = {
        "requests": 6,
        "answered": 6,
        "waits": [40, 50, 60, 70, 80, 90, 100],
        "handling": [100, 200],
        "ratings": 1,
        "score_sum": 2,
    }
    week = figures([today, yesterday, {}])
    assert (week.requests, week.answered, week.abandoned) == (10, 9, 1)
    assert week.abandonment == 0.1
    assert week.median_wait_seconds == 55  # of 10..100
    assert week.p90_wait_seconds == 90
    assert week.median_handling_seconds == 200
    assert (week.ratings, week.average_rating) == (3, 3.67)
    nothing = figures([])
    assert nothing.abandonment is None and nothing.average_rating is None and nothing.median_wait_seconds is None
    assert nothing.as_dict()["requests"] == 0


def test_samples_are_capped_to_the_newest_values():
    clause = sample_push("waits", [12.34567, 3])
    assert clause == {"waits": {"$each": [12.346, 3.0], "$slice": -SAMPLE_CAP}}


AT = datetime(2026, 3, 10, 23, 59, 30, tzinfo=UTC)


def test_a_request_counts_on_the_utc_days_its_figures_happened():
    ended = {
        "submitted_at": AT,
        "answered_at": AT + timedelta(seconds=40),
        "chat_started_at": AT + timedelta(seconds=41),
        "status": "ended",
        "status_at": AT + timedelta(seconds=341),
    }
    shares = request_figures(ended)
    # Submitted before midnight, answered and handled after it.
    assert shares[date(2026, 3, 10)] == DayShare(counts={"requests": 1})
    assert shares[date(2026, 3, 11)] == DayShare(counts={"answered": 1}, samples={"waits": [40.0], "handling": [300.0]})
    # A chat start that overtook its assignment answers the request too.
    started = {"submitted_at": AT, "chat_started_at": AT + timedelta(seconds=5), "status": "chat_open"}
    assert request_figures(started)[date(2026, 3, 10)].samples == {"waits": [5.0]}
    waiting = {"submitted_at": AT, "status": "queued", "status_at": AT}
    assert request_figures(waiting) == {date(2026, 3, 10): DayShare(counts={"requests": 1})}


def test_only_the_customers_own_cancellation_is_abandonment():
    cancelled = {"submitted_at": AT, "status": "cancelled", "status_at": AT}
    assert request_figures(cancelled)[date(2026, 3, 10)].counts == {"requests": 1, "abandoned": 1}
    deleted = {**cancelled, "rejection_reason": "company_deleted"}
    assert request_figures(deleted)[date(2026, 3, 10)].counts == {"requests": 1}


def test_unfinished_requests_add_to_the_stored_buckets():
    stored = {"2026-03-10": {"day": "2026-03-10", "requests": 2, "waits": [10.0]}}
    unfinished = [{"submitted_at": AT, "answered_at": AT + timedelta(seconds=4), "status": "assigned"}]
    merged = with_unfinished(stored, unfinished)
    assert merged["2026-03-10"] == {"day": "2026-03-10", "requests": 3, "answered": 1, "waits": [10.0, 4.0]}
    assert stored["2026-03-10"]["requests"] == 2  # the stored buckets are left alone


def test_the_csv_export_quotes_what_needs_quoting():
    import csv
    import io

    from portal_svc.entrypoints.dashboard import CSV_COLUMNS, to_csv

    text = to_csv([{"day": 'a,"b"\nc', "requests": 3, "average_rating": None}])
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == 'a,"b"\nc' and rows[1][1] == "3" and rows[1][-1] == ""
    assert '"a,""b""\nc"' in text
