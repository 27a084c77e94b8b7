"""The one clock of the use cases (UTC, timezone-aware like the stored dates)."""

from datetime import UTC, datetime


def now() -> datetime:
    """Millisecond precision, as MongoDB stores dates: a date published is the date stored."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
