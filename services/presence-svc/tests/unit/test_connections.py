"""Connection leases: liveness is read from the technician's per-replica leases, and the
sockets a replica holds are its own registry."""

from datetime import UTC, datetime, timedelta

from presence_svc.adapters.connections import Connection, ConnectionRegistry
from presence_svc.domain.availability import ChosenStatus, Lease, Technician

NOW = datetime(2026, 1, 1, tzinfo=UTC)
GRACE = timedelta(seconds=30)


def technician(**leases: Lease) -> Technician:
    return Technician("tec_a", "acc", "Ana", ("cmp",), 2, True, ChosenStatus.AVAILABLE, 1, None, leases)


def test_the_last_socket_here_is_reported_so_the_lease_can_end():
    connections = ConnectionRegistry()
    first, second = Connection(websocket=None), Connection(websocket=None)  # type: ignore[arg-type]
    connections.add("tec_a", first)
    connections.add("tec_a", second)
    assert connections.remove("tec_a", first) is False
    assert connections.technician_ids() == ["tec_a"] and connections.count("tec_a") == 1
    assert connections.remove("tec_a", second) is True
    assert connections.technician_ids() == []


def test_connected_while_any_lease_runs_and_live_for_the_grace_period_after_the_last_one():
    tech = technician(r1=Lease(NOW + timedelta(seconds=10), 1), r2=Lease(NOW - timedelta(seconds=5), 0))
    assert tech.connected(NOW) and tech.sockets(NOW) == 1
    later = NOW + timedelta(seconds=11)  # r1 died without a word: its lease ran out
    assert not tech.connected(later) and tech.live(later, GRACE)
    assert not tech.live(NOW + timedelta(seconds=40), GRACE)
    assert tech.stale_leases(NOW + timedelta(seconds=26), GRACE) == {"r2": NOW - timedelta(seconds=5)}


def test_a_clean_disconnect_ends_the_lease_at_once_and_reconnecting_elsewhere_keeps_them_live():
    gone = technician(r1=Lease(NOW, 0))
    assert not gone.connected(NOW) and gone.live(NOW + timedelta(seconds=29), GRACE)
    moved = technician(r1=Lease(NOW, 0), r2=Lease(NOW + timedelta(seconds=45), 1))
    assert moved.live(NOW + timedelta(seconds=40), GRACE) and moved.connected(NOW + timedelta(seconds=40))


class RecordingSocket:
    def __init__(self) -> None:
        self.frames: list[dict[str, object]] = []

    async def send_json(self, frame: dict[str, object]) -> None:
        self.frames.append(frame)


async def test_an_alert_broadcast_during_the_replay_is_shown_once_and_again_after_its_withdrawal():
    socket = RecordingSocket()
    connection = Connection(websocket=socket)  # type: ignore[arg-type]
    connection.ready = True
    alert = {"type": "alert", "request_id": "req_1", "kind": "offer", "sound": False}
    await connection.send(alert)  # live
    await connection.send(dict(alert))  # the replay read the same open alert
    await connection.send({**alert, "request_id": "req_2"})
    await connection.send({"type": "alert_withdrawn", "request_id": "req_1", "reason": "expired"})
    await connection.send(alert)  # offered again later: a new showing
    assert [(f["type"], f["request_id"]) for f in socket.frames] == [
        ("alert", "req_1"),
        ("alert", "req_2"),
        ("alert_withdrawn", "req_1"),
        ("alert", "req_1"),
    ]
