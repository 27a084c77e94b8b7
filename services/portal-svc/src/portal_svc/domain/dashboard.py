"""The supervisor dashboard's read model, pure: per-company per-day buckets and the figures
computed from them (issue 16, feature 6).

A bucket is ONE document per company and UTC day, addressed by `_id` = `{company}:{yyyy-mm-dd}`
(`bucket_id`), so every event costs one write by `_id` however many days are kept. Counts are
`$inc`ed; waits and handling times go into capped arrays (`$push` with `$slice`), a bounded
sample: medians and p90s are exact up to `SAMPLE_CAP` values a day and an even sample of the
most recent ones beyond. Days are UTC days (documented: a desk in another zone sees its
"today" roll over at UTC midnight).
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

SAMPLE_CAP = 500
"""Values kept per day and series: bounded documents whatever the traffic."""
RETENTION_DAYS = 35
"""Older buckets are deleted (the dashboard shows today and the last 7 days)."""


def day_of(at: datetime) -> date:
    """The UTC day `at` falls in (naive datetimes are taken as UTC, as the store returns them)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).date()


def bucket_id(company_id: str, at: datetime | date) -> str:
    """The `_id` of the company's bucket for the UTC day of `at`."""
    day = day_of(at) if isinstance(at, datetime) else at
    return f"{company_id}:{day.isoformat()}"


def days_back(today: date, count: int) -> list[date]:
    """`count` days ending with `today`, oldest first."""
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (`fraction` in 0..1) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return float(ordered[rank - 1])


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class Figures:
    """What the dashboard shows for a span of days of one company."""

    requests: int
    answered: int
    abandoned: int
    median_wait_seconds: float | None
    p90_wait_seconds: float | None
    median_handling_seconds: float | None
    ratings: int
    average_rating: float | None

    @property
    def abandonment(self) -> float | None:
        """Share of the requests that ended without a chat (cancelled or given up)."""
        return self.abandoned / self.requests if self.requests else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "abandonment": self.abandonment,
            "median_wait_seconds": self.median_wait_seconds,
            "p90_wait_seconds": self.p90_wait_seconds,
            "median_handling_seconds": self.median_handling_seconds,
            "ratings": self.ratings,
            "average_rating": self.average_rating,
        }


def figures(buckets: Iterable[Mapping[str, Any]]) -> Figures:
    """Sum the counts and pool the samples of some day buckets (missing days count as empty)."""
    requests = answered = abandoned = ratings = score_sum = 0
    waits: list[float] = []
    handling: list[float] = []
    for bucket in buckets:
        requests += int(bucket.get("requests", 0))
        answered += int(bucket.get("answered", 0))
        abandoned += int(bucket.get("abandoned", 0))
        ratings += int(bucket.get("ratings", 0))
        score_sum += int(bucket.get("score_sum", 0))
        waits.extend(bucket.get("waits", ()))
        handling.extend(bucket.get("handling", ()))
    return Figures(
        requests=requests,
        answered=answered,
        abandoned=abandoned,
        median_wait_seconds=median(waits),
        p90_wait_seconds=percentile(waits, 0.9),
        median_handling_seconds=median(handling),
        ratings=ratings,
        average_rating=round(score_sum / ratings, 2) if ratings else None,
    )


def sample_push(field: str, value: float) -> dict[str, Any]:
    """The `$push` clause adding `value` to a capped sample (the newest `SAMPLE_CAP` kept)."""
    return {field: {"$each": [round(float(value), 3)], "$slice": -SAMPLE_CAP}}
