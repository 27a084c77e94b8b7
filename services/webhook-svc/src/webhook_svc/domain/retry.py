"""When a failed delivery is tried again, and when an endpoint has failed for too long."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    schedule: tuple[float, ...]
    """Seconds to wait after the 1st, 2nd, … failed attempt; after the last, the delivery is
    given up (it stays in the log, and "send again" restarts it)."""
    disable_after_failures: int
    disable_after: timedelta
    """An endpoint is disabled once it failed this many attempts in a row *and* has been
    failing for this long: one bad deploy of the receiver does not switch it off."""

    def delay_after(self, attempt: int) -> float | None:
        """Seconds until the next try after failed attempt number `attempt` (1-based); None: give up."""
        return self.schedule[attempt - 1] if 1 <= attempt <= len(self.schedule) else None

    def should_disable(self, streak: int, failing_since: datetime | None, now: datetime) -> bool:
        if failing_since is None or streak < self.disable_after_failures:
            return False
        return now - failing_since >= self.disable_after
