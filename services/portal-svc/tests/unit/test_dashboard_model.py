"""The dashboard read model's pure part: UTC day buckets, medians and p90s, pooled days."""

from datetime import UTC, date, datetime, timedelta, timezone

from portal_svc.domain.dashboard import (
    SAMPLE_CAP,
    bucket_id,
    days_back,
    figures,
    median,
    percentile,
    sample_push,
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
    clause = sample_push("waits", 12.34567)
    assert clause == {"waits": {"$each": [12.346], "$slice": -SAMPLE_CAP}}


def test_the_csv_export_quotes_what_needs_quoting():
    import csv
    import io

    from portal_svc.entrypoints.dashboard import CSV_COLUMNS, to_csv

    text = to_csv([{"day": 'a,"b"\nc', "requests": 3, "average_rating": None}])
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == 'a,"b"\nc' and rows[1][1] == "3" and rows[1][-1] == ""
    assert '"a,""b""\nc"' in text
