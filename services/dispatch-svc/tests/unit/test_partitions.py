"""Sharing out company partitions among the dispatch workers heard from."""

import time
from collections import Counter

from dispatch_svc.entrypoints.partitions import SILENT_HEARTBEATS, Membership


def test_partitions_are_shared_evenly_and_every_worker_agrees():
    views = [Membership(1.0, me=name) for name in ("w-a", "w-b")]
    for view in views:
        for other in ("w-a", "w-b"):
            view.heard(other)
    owners = [[view.owner(p) for p in range(8)] for view in views]
    assert owners[0] == owners[1]
    assert Counter(owners[0]) == {"w-a": 4, "w-b": 4}


def test_a_silent_worker_loses_its_partitions_to_the_survivors(monkeypatch):
    view = Membership(1.0, me="w-a")
    view.heard("w-b")
    assert {view.owner(p) for p in range(8)} == {"w-a", "w-b"}
    later = time.monotonic() + SILENT_HEARTBEATS + 0.5
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert {view.owner(p) for p in range(8)} == {"w-a"}
    assert view.members() == ["w-a"]  # a worker always counts itself
