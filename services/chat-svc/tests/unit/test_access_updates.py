"""TechnicianUpdated keeps chat-svc's record current and pushes revoked technicians out (on
fakes: no broker, no database)."""

from typing import Any, cast

from chat_svc.adapters.hub import Connection, Hub
from chat_svc.adapters.technicians import TechnicianRepository
from chat_svc.domain.model import Author
from chat_svc.domain.technicians import TechnicianAccess
from chat_svc.handlers.technicians import TechnicianRecords
from contracts import Envelope, TechnicianUpdated


class FakeTechnicians:
    def __init__(self) -> None:
        self.records: dict[str, TechnicianAccess] = {}

    async def get(self, technician_id: str) -> TechnicianAccess | None:
        return self.records.get(technician_id)

    async def save(self, event: TechnicianUpdated) -> bool:
        current = self.records.get(event.technician_id)
        if current is not None and current.revision >= event.revision:
            return False
        self.records[event.technician_id] = TechnicianAccess(
            technician_id=event.technician_id,
            account_id=event.account_id,
            company_ids=frozenset(event.company_ids),
            enabled=event.enabled,
            revision=event.revision,
        )
        return True


def updated(technician_id: str, companies: list[str], revision: int, *, enabled: bool = True) -> Envelope[Any]:
    data = TechnicianUpdated(
        technician_id=technician_id,
        account_id="acc",
        display_name=technician_id,
        company_ids=companies,
        capacity=2,
        enabled=enabled,
        revision=revision,
    )
    return Envelope[TechnicianUpdated].of(data, producer="portal-svc", correlation_id=technician_id)


def socket(hub: Hub, session_id: str, author: Author, person: str, company: str) -> Connection:
    connection = Connection(
        cast(Any, None), session_id, author, "key", 10, person_id=person, account_id="acc", company_id=company
    )
    hub.add(connection)
    return connection


def closes(connection: Connection) -> list[tuple[int, str]]:
    return [item for kind, item in list(connection.queue._queue) if kind == "close"]  # type: ignore[attr-defined]


def setup() -> tuple[TechnicianRecords, Hub, dict[str, Connection]]:
    hub = Hub(max_sockets_per_token=3)
    records = TechnicianRecords(cast(TechnicianRepository, FakeTechnicians()), hub)
    # Without a fan-out the hub delivers announcements in process, as every replica would.
    hub.on_access_changed(records.apply)
    sockets = {
        "rita_a": socket(hub, "cht_a", Author.TECHNICIAN, "tec_rita", "cmp_a"),
        "rita_b": socket(hub, "cht_b", Author.TECHNICIAN, "tec_rita", "cmp_b"),
        "customer_a": socket(hub, "cht_a", Author.CUSTOMER, "req_a", "cmp_a"),
        "zoe_a": socket(hub, "cht_z", Author.TECHNICIAN, "tec_zoe", "cmp_a"),
    }
    return records, hub, sockets


async def test_losing_a_company_closes_only_that_companys_sockets_of_that_technician():
    records, _, sockets = setup()
    await records.on_updated(updated("tec_rita", ["cmp_a", "cmp_b"], 1))
    assert all(closes(c) == [] for c in sockets.values())

    await records.on_updated(updated("tec_rita", ["cmp_b"], 2))
    assert closes(sockets["rita_a"]) == [(4403, "access revoked")]
    assert closes(sockets["rita_b"]) == closes(sockets["customer_a"]) == closes(sockets["zoe_a"]) == []
    record = await records.record("tec_rita")
    assert record is not None and record.company_ids == {"cmp_b"}


async def test_a_stale_update_changes_nothing_and_closes_nothing():
    records, _, sockets = setup()
    await records.on_updated(updated("tec_rita", ["cmp_a", "cmp_b"], 3))
    await records.on_updated(updated("tec_rita", [], 2))  # older, arriving late
    assert all(closes(c) == [] for c in sockets.values())
    record = await records.record("tec_rita")
    assert record is not None and record.revision == 3 and record.company_ids == {"cmp_a", "cmp_b"}


async def test_a_deleted_technician_loses_every_socket():
    records, _, sockets = setup()
    await records.on_updated(updated("tec_rita", ["cmp_a", "cmp_b"], 1))
    await records.on_updated(updated("tec_rita", ["cmp_a", "cmp_b"], 2, enabled=False))
    assert closes(sockets["rita_a"]) == closes(sockets["rita_b"]) == [(4403, "access revoked")]
    assert closes(sockets["zoe_a"]) == closes(sockets["customer_a"]) == []
