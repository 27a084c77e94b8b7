"""The dashboard's live state, pure: the tiles, from the company's unfinished request records
and its technicians' states."""

from datetime import UTC, datetime, timedelta

from portal_svc.domain.dashboard_live import live_view, technician_state, waiting_since

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_the_tiles_count_what_is_live_now():
    requests = [
        {"status": "submitted", "submitted_at": NOW - timedelta(seconds=90)},
        {"status": "offered", "submitted_at": NOW - timedelta(seconds=30)},
        {"status": "queued", "submitted_at": NOW - timedelta(seconds=10), "queued_since": NOW},
        {"status": "assigned", "submitted_at": NOW - timedelta(seconds=5), "technician_id": "tec_ben"},
        {"status": "chat_open", "technician_id": "tec_ana", "submitted_at": NOW - timedelta(hours=1)},
        {"status": "chat_open", "technician_id": "tec_ana", "submitted_at": NOW - timedelta(minutes=1)},
    ]
    technicians = [
        {"_id": "tec_ana", "state": "available", "available": True},
        {"_id": "tec_ben", "state": "away", "available": False},
        {"_id": "tec_cy", "state": "offline", "available": False},
        {"_id": "tec_dee", "state": "removed", "available": False},
        {"_id": "tec_eve", "available": False},  # never heard of by presence
    ]
    view = live_view(requests, technicians, NOW)
    assert view == {
        "requests_waiting": 4,
        "oldest_wait_seconds": 90,
        "offers_out": 1,
        "chats_active": 2,
        "technicians": {"available": 1, "away": 1, "paused": 0, "offline": 1},
        "technicians_in_chat": 1,
    }
    nothing = live_view([], [], NOW)
    assert nothing["requests_waiting"] == 0 and nothing["oldest_wait_seconds"] is None


def test_a_wait_starts_at_the_submission_or_an_earlier_queue_time():
    assert waiting_since({"submitted_at": NOW, "queued_since": NOW + timedelta(seconds=1)}) == NOW
    assert waiting_since({"submitted_at": NOW, "queued_since": NOW - timedelta(seconds=1)}) == NOW - timedelta(
        seconds=1
    )
    assert waiting_since({"submitted_at": datetime(2026, 3, 10, 12)}) == NOW  # naive = UTC
    assert waiting_since({}) is None


def test_a_record_from_before_states_were_kept_counts_when_available():
    assert technician_state({"available": True}) == "available"
    assert technician_state({"available": False}) is None
    assert technician_state({"available": False, "state": "paused"}) == "paused"
