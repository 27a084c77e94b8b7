"""Chat's domain figures for Prometheus, derived from the events it publishes.

Sessions started and ended are counted when their events are published; the sessions active
come from a periodic read of the store: the same on every replica, aggregate with `max`.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from chat_svc.adapters.sessions import SessionRepository
from contracts import ChatSessionEnded, ChatSessionStarted, Envelope
from servicekit.metrics import Metrics


class ChatMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.started = metrics.counter("chats_started_total", "Chat sessions opened.")
        self.ended = metrics.counter(
            "chats_ended_total", "Chat sessions ended, by who ended them and the outcome.", ["ended_by", "outcome"]
        )
        self.active = metrics.gauge("chats_active", "Chat sessions open now (periodic read; aggregate with max).")
        metrics.on_published(self.published)

    def published(self, event: Envelope[Any]) -> None:
        data = event.data
        if isinstance(data, ChatSessionStarted):
            self.started.inc()
        elif isinstance(data, ChatSessionEnded):
            self.ended.labels(data.ended_by.value, data.outcome.value).inc()

    def refresher(self, sessions: SessionRepository) -> Callable[[], Awaitable[None]]:
        async def refresh() -> None:
            self.active.set(await sessions.active_count())

        return refresh
