"""Presence's domain figures for Prometheus, derived from the events it publishes (the
help-center sockets themselves are counted by servicekit's `websocket_connections`)."""

from typing import Any

from contracts import Envelope, TechnicianAvailable, TechnicianUnavailable
from servicekit.metrics import Metrics


class PresenceMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.changes = metrics.counter(
            "technician_availability_changes_total",
            "Technicians turning available or unavailable (with the reason: chosen, disconnected, …).",
            ["status", "reason"],
        )
        metrics.on_published(self.published)

    def published(self, event: Envelope[Any]) -> None:
        data = event.data
        if isinstance(data, TechnicianAvailable):
            self.changes.labels("available", "").inc()
        elif isinstance(data, TechnicianUnavailable):
            self.changes.labels("unavailable", data.reason.value).inc()
