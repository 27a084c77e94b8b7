"""Delivery of live frames to the sockets one replica holds, and the pieces that keep counts
and buckets right across replicas (no broker, no database)."""

from typing import Any, cast

import pytest

from chat_svc.adapters.hub import Connection, Hub
from chat_svc.adapters.messages import bucket_size
from chat_svc.adapters.replicas import Replicas
from chat_svc.domain.errors import TooManySockets
from chat_svc.domain.model import Author, bucket_of, seq_in
from servicekit.live import LiveFrame


def socket(hub: Hub, author: Author, last_seq: int = 0) -> Connection:
    connection = Connection(cast(Any, None), "cht_a", author, "key", 50)
    connection.last_seq = last_seq
    hub.add(connection)
    return connection


def sent(connection: Connection) -> list[Any]:
    return [item for _kind, item in list(connection.queue._queue)]  # type: ignore[attr-defined]


def message(seq: int) -> dict[str, Any]:
    return {"type": "message", "seq": seq, "text": f"m{seq}"}


def frame(*frames: dict[str, Any], skip: str | None = None, close: dict[str, Any] | None = None) -> LiveFrame:
    return LiveFrame(topic="session.cht_a", frame={"frames": list(frames), "skip": skip, "close": close}, origin="r")


async def test_duplicates_are_skipped_and_gaps_are_filled_from_the_store_in_order():
    hub = Hub(max_sockets_per_token=3)
    reads: list[int] = []

    async def catch_up(session_id: str, after: int) -> list[dict[str, Any]]:
        reads.append(after)
        return [message(seq) for seq in range(after + 1, 6)]  # the store holds 1..5

    hub.on_catch_up(catch_up)
    customer = socket(hub, Author.CUSTOMER, last_seq=2)  # joined with history up to 2
    await hub.deliver(frame(message(2)))  # already sent with the history
    await hub.deliver(frame(message(5)))  # 3 and 4 crossed on the way from another replica
    await hub.deliver(frame(message(3)))  # arrives late: already sent
    await hub.deliver(frame(message(6)))
    assert [f["seq"] for f in sent(customer)] == [3, 4, 5, 6]
    assert reads == [2]


async def test_typing_skips_its_author_and_a_close_can_target_one_side():
    hub = Hub(max_sockets_per_token=3)
    customer, technician = socket(hub, Author.CUSTOMER), socket(hub, Author.TECHNICIAN)
    await hub.deliver(frame({"type": "typing", "author": "customer"}, skip=customer.id))
    await hub.deliver(frame(close={"code": 1008, "reason": "transferred", "author": "technician"}))
    assert sent(customer) == []
    assert sent(technician) == [{"type": "typing", "author": "customer"}, (1008, "transferred")]


async def test_sockets_of_a_token_are_limited_in_process_without_a_counter():
    hub = Hub(max_sockets_per_token=2)
    await hub.reserve_socket("k")
    await hub.reserve_socket("k")
    with pytest.raises(TooManySockets):
        await hub.reserve_socket("k")
    await hub.release_socket("k")
    await hub.reserve_socket("k")


def test_counts_of_replicas_whose_lease_expired_do_not_count():
    replicas = Replicas(cast(Any, None), "host.a-1-abc", lease_seconds=15)
    replicas.live = frozenset({replicas.key, "host_b-2-def"})
    counts = {replicas.key: 1, "host_b-2-def": 2, "dead-3-xyz": 5}
    assert replicas.key == "host_a-1-abc"  # no dots: they would read as a path
    assert replicas.total(counts) == 3
    assert replicas.unknown(counts) and not replicas.unknown({replicas.key: 1})


def test_buckets_stay_far_below_the_document_limit():
    assert bucket_size(100, 2000) == 100
    assert bucket_size(100, 100_000) * (100_000 * 4 + 512) <= 8_000_000
    assert bucket_size(100, 100_000) >= 1
    assert [bucket_of(seq, 3) for seq in (1, 3, 4, 6, 7)] == [0, 0, 1, 1, 2]
    assert seq_in("cht_a", "cht_a:12") == 12
    assert seq_in("cht_a", "cht_b:12") is None and seq_in("cht_a", "cht_a:x") is None
