"""Generated documents that are committed (AsyncAPI, JSON Schema) must stay current."""

import os
from pathlib import Path


def assert_snapshot(path: Path, current: str) -> None:
    """Fails when `path` differs from `current`; `UPDATE_SNAPSHOTS=1` rewrites it."""
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(current)
    committed = path.read_text() if path.exists() else ""
    assert committed == current, f"{path} is stale: run `make snapshots` and commit the result"
