"""A transfer's frames on one replica: every socket reads the line, then only the sockets of
the technician who left are closed; and the line itself."""

from typing import Any, cast

from chat_svc.adapters.hub import Connection, Hub
from chat_svc.domain.model import Author
from chat_svc.domain.rules import transfer_notice
from servicekit.live import LiveFrame


def socket(hub: Hub, author: Author, person: str) -> Connection:
    connection = Connection(cast(Any, None), "cht_a", author, "key", 50, person_id=person)
    hub.add(connection)
    return connection


def sent(connection: Connection) -> list[Any]:
    return [item for _kind, item in list(connection.queue._queue)]  # type: ignore[attr-defined]


async def test_the_line_reaches_everyone_and_only_the_leaving_technician_is_closed():
    hub = Hub(max_sockets_per_token=3)
    customer = socket(hub, Author.CUSTOMER, "req_a")
    ana, ben = socket(hub, Author.TECHNICIAN, "tec_ana"), socket(hub, Author.TECHNICIAN, "tec_ben")
    line = {"type": "session", "technician_id": "tec_ben"}
    close = {
        "code": 1008,
        "reason": "session transferred to another technician",
        "author": "technician",
        "person": "tec_ana",
    }
    await hub.deliver(
        LiveFrame(topic="session.cht_a", frame={"frames": [line], "skip": None, "close": close}, origin="r")
    )
    assert sent(customer) == [line]
    assert sent(ben) == [line]
    assert sent(ana) == [line, (1008, "session transferred to another technician")]


def test_the_transfer_line_names_both_technicians_or_says_who_they_are():
    assert transfer_notice("Ana", "Ben") == "Ana transferred the chat to Ben."
    assert transfer_notice("", "") == "The technician transferred the chat to a colleague."
