"""The PyMongo async client factory (PyMongo's async API, the successor of Motor), with
command monitoring: every client it makes counts its store commands for `GET {prefix}/stats`."""

import threading
from collections import Counter
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent


class CommandStats(CommandListener):
    """Store commands by name, succeeded and failed, the time the server took for them, and
    how many went to each collection (`"<command> <collection>"`: where a request's cost goes).

    PyMongo calls listeners from whichever thread runs the command, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._succeeded: Counter[str] = Counter()
        self._failed: Counter[str] = Counter()
        self._by_collection: Counter[str] = Counter()
        self._seconds = 0.0

    def started(self, event: CommandStartedEvent) -> None:
        # Only the started event carries the command document, whose first value names the
        # collection for every collection command (`{"update": "requests", ...}`).
        target = event.command.get(event.command_name)
        where = target if isinstance(target, str) else event.database_name
        with self._lock:
            self._by_collection[f"{event.command_name} {where}"] += 1

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self._record(self._succeeded, event.command_name, event.duration_micros)

    def failed(self, event: CommandFailedEvent) -> None:
        self._record(self._failed, event.command_name, event.duration_micros)

    def _record(self, outcome: Counter[str], name: str, micros: int) -> None:
        with self._lock:
            outcome[name] += 1
            self._seconds += micros / 1_000_000

    def snapshot(self) -> dict[str, Any]:
        """`{"commands": N, "failed": F, "seconds": S, "by_command": {name: {"ok": n, "failed": f}},
        "by_collection": {"<command> <collection>": n}}`."""
        with self._lock:
            names = sorted(set(self._succeeded) | set(self._failed))
            return {
                "commands": sum(self._succeeded.values()) + sum(self._failed.values()),
                "failed": sum(self._failed.values()),
                "seconds": round(self._seconds, 6),
                "by_command": {name: {"ok": self._succeeded[name], "failed": self._failed[name]} for name in names},
                "by_collection": dict(sorted(self._by_collection.items())),
            }


STORE_STATS = CommandStats()
"""This process's counters: one service per process, so they are that service's."""


def make_mongo_client(url: str, *, app_name: str, stats: CommandStats | None = None) -> AsyncMongoClient:
    """A client whose commands count into `stats` (this process's `STORE_STATS` by default)."""
    return AsyncMongoClient(
        url,
        appname=app_name,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=10_000,
        event_listeners=[stats or STORE_STATS],
    )


async def ping(client: AsyncMongoClient) -> None:
    await client.admin.command("ping")
