"""The dashboard's live state, pure: order keys, the tiles, tombstones."""

from datetime import UTC, datetime, timedelta

from portal_svc.domain.dashboard_live import TOMBSTONE_KEEP, Stage, live_view, order_key, stale_tombstones

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_a_later_tier_always_wins_and_within_dispatch_the_later_event():
    early, late = NOW, NOW + timedelta(seconds=5)
    assert order_key(Stage.QUEUED, early) > order_key(Stage.WAITING, late)
    assert order_key(Stage.QUEUED, late) > order_key(Stage.ASSIGNED, early)  # re-queued after an assignment
    assert order_key(Stage.CHAT, early) > order_key(Stage.ASSIGNED, late)
    assert order_key(Stage.DONE, early) > order_key(Stage.CHAT, late)
    assert order_key(Stage.OFFERED, datetime(2026, 3, 10, 12)) == order_key(Stage.OFFERED, NOW)  # naive = UTC


def test_the_tiles_count_what_is_live_now():
    doc = {
        "requests": {
            "req_a": {"stage": "waiting", "since": NOW - timedelta(seconds=90)},
            "req_b": {"stage": "offered", "since": NOW - timedelta(seconds=30)},
            "req_c": {"stage": "queued", "since": NOW - timedelta(seconds=10)},
            "req_d": {"stage": "chat", "technician_id": "tec_ana", "since": NOW - timedelta(hours=1)},
            "req_e": {"stage": "chat", "technician_id": "tec_ana"},
            "req_f": {"stage": "done", "at": NOW},
        },
        "technicians": {
            "tec_ana": {"state": "available"},
            "tec_ben": {"state": "away"},
            "tec_cy": {"state": "offline"},
            "tec_dee": {"state": "removed"},
        },
    }
    view = live_view(doc, NOW)
    assert view == {
        "requests_waiting": 3,
        "oldest_wait_seconds": 90,
        "offers_out": 1,
        "chats_active": 2,
        "technicians": {"available": 1, "away": 1, "paused": 0, "offline": 1},
        "technicians_in_chat": 1,
    }
    assert live_view(None, NOW)["requests_waiting"] == 0 and live_view(None, NOW)["oldest_wait_seconds"] is None


def test_only_old_tombstones_are_pruned():
    doc = {
        "requests": {
            "req_old": {"stage": "done", "at": NOW - TOMBSTONE_KEEP - timedelta(seconds=1)},
            "req_new": {"stage": "done", "at": NOW - timedelta(minutes=1)},
            "req_live": {"stage": "waiting", "at": NOW - timedelta(days=1)},
        }
    }
    assert stale_tombstones(doc, NOW) == ["req_old"]
