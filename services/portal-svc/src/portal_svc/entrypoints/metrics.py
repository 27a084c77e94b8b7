"""Portal's domain figures for Prometheus, derived from the events it publishes."""

from typing import Any

from contracts import Envelope, RequestCancelled, RequestSubmitted
from servicekit.metrics import Metrics


class PortalMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.submitted = metrics.counter("requests_submitted_total", "Requests accepted from customers.", ["mode"])
        self.cancelled = metrics.counter("requests_cancelled_total", "Requests the customer cancelled.")
        metrics.on_published(self.published)

    def published(self, event: Envelope[Any]) -> None:
        data = event.data
        if isinstance(data, RequestSubmitted):
            self.submitted.labels(data.mode.value).inc()
        elif isinstance(data, RequestCancelled):
            self.cancelled.inc()
