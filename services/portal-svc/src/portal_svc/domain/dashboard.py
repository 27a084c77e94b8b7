"""The supervisor dashboard's read model, pure: per-company per-day buckets and the figures
computed from them (issue 16, feature 6).

A request's figures come from its own record (`request_figures`): submitted, answered (first
assignment, or the chat's start when that event came first) with its wait, handled (chat
start to end), abandoned (cancelled by the customer). While the request is unfinished they
are read from the live record itself; once it finishes they are counted into the buckets,
one write per day concerned (almost always one), and the live record no longer counts.

A bucket is ONE document per company and UTC day, addressed by `_id` = `{company}:{yyyy-mm-dd}`
(`bucket_id`), so every count costs one write by `_id` however many days are kept. Counts are
`$inc`ed; waits and handling times go into capped arrays (`$push` with `$slice`), a bounded
sample: medians and p90s are exact up to `SAMPLE_CAP` values a day and an even sample of the
most recent ones beyond. Days are UTC days (documented: a desk in another zone sees its
"today" roll over at UTC midnight).
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

SAMPLE_CAP = 500
"""Values kept per day and series: bounded documents whatever the traffic."""
RETENTION_DAYS = 35
"""Older buckets are deleted (the dashboard shows today and the last 7 days)."""


def as_utc(at: datetime) -> datetime:
    """Naive datetimes are taken as UTC, as the store returns them."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def day_of(at: datetime) -> date:
    """The UTC day `at` falls in."""
    return as_utc(at).date()


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


def sample_push(series: str, values: Sequence[float]) -> dict[str, Any]:
    """The `$push` clause adding `values` to a capped sample (the newest `SAMPLE_CAP` kept)."""
    return {series: {"$each": [round(float(value), 3) for value in values], "$slice": -SAMPLE_CAP}}


@dataclass
class DayShare:
    """What one request adds to one day's bucket."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def sample(self, name: str, seconds: float | None) -> None:
        if seconds is not None:
            self.samples.setdefault(name, []).append(round(seconds, 3))


def _seconds(start: object, end: object) -> float | None:
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return None
    seconds = (as_utc(end) - as_utc(start)).total_seconds()
    return seconds if seconds >= 0 else None


def request_figures(doc: Mapping[str, Any]) -> dict[date, DayShare]:
    """A request record's share of the figures, by UTC day: submitted on the day of its
    submission, answered (with its wait) on the day of its first assignment, handled on the
    day its chat ended, abandoned on the day the customer cancelled it."""
    shares: dict[date, DayShare] = {}

    def on(at: datetime) -> DayShare:
        return shares.setdefault(day_of(at), DayShare())

    submitted = doc["submitted_at"]
    on(submitted).count("requests")
    # Every chat opens on an assignment: a chat start that overtook its assignment answers too.
    answered = doc.get("answered_at") or doc.get("chat_started_at")
    if isinstance(answered, datetime):
        share = on(answered)
        share.count("answered")
        share.sample("waits", _seconds(submitted, answered))
    status, at = doc.get("status"), doc.get("status_at")
    if isinstance(at, datetime):
        if status == "ended" and isinstance(doc.get("chat_started_at"), datetime):
            on(at).sample("handling", _seconds(doc["chat_started_at"], at))
        elif status == "cancelled" and not doc.get("rejection_reason"):
            on(at).count("abandoned")  # the customer's own cancellation (a company's deletion has a reason)
    return shares


def with_unfinished(
    buckets: Mapping[str, Mapping[str, Any]], unfinished: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The stored buckets (by ISO day) plus the shares of the requests not finished yet."""
    merged = {day: dict(bucket) for day, bucket in buckets.items()}
    for doc in unfinished:
        for day, share in request_figures(doc).items():
            bucket = merged.setdefault(day.isoformat(), {"day": day.isoformat()})
            for name, count in share.counts.items():
                bucket[name] = int(bucket.get(name, 0)) + count
            for name, values in share.samples.items():
                bucket[name] = [*bucket.get(name, ()), *values]
    return merged
