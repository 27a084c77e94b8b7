"""The in-process connection registry: the grace period is a deadline read by a periodic tick."""

from presence_svc.adapters.connections import Connection, ConnectionRegistry


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def registry() -> tuple[ConnectionRegistry, Clock]:
    clock = Clock()
    return ConnectionRegistry(grace_seconds=30, clock=clock), clock


def tab() -> Connection:
    return Connection(websocket=None)  # type: ignore[arg-type]  # never sent to here


def test_the_last_connection_dropping_starts_the_grace_period_and_the_tick_ends_it():
    connections, clock = registry()
    first, second = tab(), tab()
    connections.add("tec_a", first)
    connections.add("tec_a", second)
    connections.remove("tec_a", first)
    assert connections.live("tec_a") and connections.count("tec_a") == 1
    connections.remove("tec_a", second)
    assert connections.live("tec_a") and not connections.connected("tec_a")

    clock.now += 29
    assert connections.expired() == [] and connections.live("tec_a")
    clock.now += 2
    assert not connections.live("tec_a")
    assert connections.expired() == ["tec_a"]
    assert connections.expired() == []  # reported once


def test_reconnecting_within_the_grace_period_cancels_it():
    connections, clock = registry()
    connection = tab()
    connections.add("tec_a", connection)
    connections.remove("tec_a", connection)
    clock.now += 10
    connections.add("tec_a", tab())
    clock.now += 60
    assert connections.expired() == [] and connections.live("tec_a")


def test_a_grace_period_is_not_restarted_by_a_second_start():
    connections, clock = registry()
    connections.start_grace("tec_a")  # after a restart, nobody is connected yet
    clock.now += 20
    connections.start_grace("tec_a")
    clock.now += 11
    assert connections.expired() == ["tec_a"]
