"""Generated documents that are committed (AsyncAPI, JSON Schema) must stay current."""

import os
from pathlib import Path

from servicekit.settings import ServiceSettings

SNAPSHOT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
"""The broker URL the committed AsyncAPI documents name as their server (the local default)."""


def snapshot_settings[S: ServiceSettings](settings_class: type[S], **overrides: object) -> S:
    """A service's settings for generating its committed documents: fixed values, whatever the
    caller's environment says (a run's `RABBITMQ_URL` names a private vhost)."""
    values: dict[str, object] = {"rabbitmq_url": SNAPSHOT_RABBITMQ_URL, **overrides}
    return settings_class(**values)  # type: ignore[arg-type]


def assert_snapshot(path: Path, current: str) -> None:
    """Fails when `path` differs from `current`; `UPDATE_SNAPSHOTS=1` rewrites it."""
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(current)
    committed = path.read_text() if path.exists() else ""
    assert committed == current, f"{path} is stale: run `make snapshots` and commit the result"
