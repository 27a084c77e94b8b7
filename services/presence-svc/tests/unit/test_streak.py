"""The missed-requests streak's use cases on fakes: what counts as a miss, what resets it,
and that the stop happens once, only for someone who still chose Available."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope, RequestAcknowledged, RequestAssigned, RequestOffered, RequestOfferWithdrawn
from contracts.vocabulary import ConnectionMode, PortalType, WithdrawalReason
from presence_svc.domain.availability import ChosenStatus, Technician
from presence_svc.handlers.streak import StreakHandlers

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


class FakeTechnicians:
    """In memory, with the same once-only rules as the MongoDB repository."""

    def __init__(self) -> None:
        self.technician = Technician("tec_a", "acc", "A", ("cmp",), 2, True, ChosenStatus.AVAILABLE, 1, None)
        self.asks: dict[str, datetime] = {}
        self.missed_at: datetime | None = None
        self.stops = 0

    def _bump(self, at: datetime) -> Technician:
        self.technician = replace(self.technician, missed=self.technician.missed + 1)
        self.missed_at = at if self.missed_at is None else max(self.missed_at, at)
        return self.technician

    async def asked(
        self, technician_ids: list[str], request_id: str, deadline: datetime, *, at: datetime
    ) -> list[Technician]:
        before = self.asks.get(request_id)
        self.asks[request_id] = deadline if before is None or before < deadline else before
        return [self._bump(at)] if before is not None and before < deadline else []

    async def assigned(self, technician_id: str, request_id: str, *, ask_at: datetime | None) -> Technician:
        if ask_at is not None:
            self.asks[request_id] = ask_at
        else:
            self.asks.pop(request_id, None)
            self.technician = replace(self.technician, missed=0)
        return self.technician

    async def lapsed(self, technician_id: str, request_id: str, *, at: datetime) -> Technician | None:
        return self._bump(at) if self.asks.pop(request_id, None) is not None else None

    async def acknowledged(self, technician_id: str, request_id: str, at: datetime) -> bool:
        self.asks.pop(request_id, None)
        if self.missed_at is not None and self.missed_at > at:
            return False
        self.technician = replace(self.technician, missed=0)
        return True

    async def forget_ask(self, technician_ids: list[str], request_id: str) -> None:
        self.asks.pop(request_id, None)

    async def chat_closed(
        self,
        technician_id: str,
        request_id: str,
        *,
        answered: bool = False,
        forget_ask: bool = False,
        final: bool = False,
    ) -> Technician:
        if answered or forget_ask:
            self.asks.pop(request_id, None)
        if answered:
            self.technician = replace(self.technician, missed=0)
        return self.technician

    async def miss_and_stop(self, technician_id: str, *, limit: int) -> bool:
        if self.technician.chosen is not ChosenStatus.AVAILABLE or self.technician.missed < limit:
            return False
        self.technician = replace(self.technician, chosen=ChosenStatus.UNAVAILABLE, missed=0)
        self.stops += 1
        return True


class FakeChannel:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []

    async def send(self, technician_id: str, frame: dict[str, Any]) -> None:
        self.frames.append(frame)


class FakePresence:
    def __init__(self) -> None:
        self.channel = FakeChannel()
        self.reconciled = 0

    async def reconcile(self, technician_id: str, correlation_id: str) -> None:
        self.reconciled += 1

    async def announce(self, technician_id: str, technician: Technician | None = None) -> None: ...


def envelope(payload: Any) -> Envelope[Any]:
    return Envelope[type(payload)].of(payload, producer="dispatch-svc", correlation_id="corr")  # type: ignore[misc]


def offer(request_id: str, expires: datetime) -> Envelope[Any]:
    return envelope(
        RequestOffered(
            request_id=request_id,
            account_id="acc",
            company_id="cmp",
            technician_ids=["tec_a"],
            portal_type=PortalType.SMART_BOX,
            customer_name="Bob",
            expires_at=expires,
        )
    )


def withdrawal(
    request_id: str, reason: WithdrawalReason = WithdrawalReason.EXPIRED, *, at: datetime | None = None
) -> Envelope[Any]:
    event = envelope(
        RequestOfferWithdrawn(
            request_id=request_id, account_id="acc", company_id="cmp", technician_ids=["tec_a"], reason=reason
        )
    )
    return event if at is None else event.model_copy(update={"occurred_at": at})


def acknowledgement(request_id: str, at: datetime) -> Envelope[Any]:
    return envelope(
        RequestAcknowledged(
            request_id=request_id, account_id="acc", company_id="cmp", technician_id="tec_a", acknowledged_at=at
        )
    )


def assignment(request_id: str, *, alert: bool) -> Envelope[Any]:
    return envelope(
        RequestAssigned(
            request_id=request_id,
            account_id="acc",
            company_id="cmp",
            technician_id="tec_a",
            mode=ConnectionMode.QUEUE if alert else ConnectionMode.WEB,
            portal_type=PortalType.SMART_BOX,
            customer_name="Bob",
            alert=alert,
            assigned_at=NOW,
        )
    )


def handlers(limit: int = 3) -> tuple[StreakHandlers, FakeTechnicians, FakePresence]:
    technicians, presence = FakeTechnicians(), FakePresence()
    return StreakHandlers(technicians, presence, limit=limit), technicians, presence  # type: ignore[arg-type]


async def test_reoffers_expiries_and_lapsed_assignments_count_and_the_third_stops_once():
    streak, technicians, presence = handlers()
    await streak.offered(offer("r1", NOW))
    await streak.offered(offer("r1", NOW + timedelta(seconds=30)))  # re-offered: the first lapsed
    await streak.offered(offer("r1", NOW + timedelta(seconds=30)))  # a repeat: no second miss
    await streak.offered(offer("r2", NOW))
    await streak.withdrawn(withdrawal("r2"))
    await streak.withdrawn(withdrawal("r2"))  # a repeat
    assert technicians.technician.missed == 2 and presence.channel.frames == []
    await streak.assigned(assignment("r3", alert=True))
    await streak.withdrawn(withdrawal("r3"))  # not acknowledged in time
    assert technicians.stops == 1 and presence.reconciled == 1
    assert [f["type"] for f in presence.channel.frames] == ["missed_requests"]


async def test_an_accept_resets_and_other_withdrawals_are_nobodys_miss():
    streak, technicians, _presence = handlers()
    for request in ("r1", "r2"):
        await streak.offered(offer(request, NOW))
        await streak.withdrawn(withdrawal(request))
    await streak.assigned(assignment("r3", alert=False))  # took a Web offer
    assert technicians.technician.missed == 0
    for request, reason in (("r4", WithdrawalReason.TAKEN), ("r5", WithdrawalReason.CANCELLED)):
        await streak.offered(offer(request, NOW))
        await streak.withdrawn(withdrawal(request, reason))
    assert technicians.technician.missed == 0 and technicians.stops == 0


async def test_someone_who_chose_unavailable_meanwhile_is_not_stopped_and_zero_turns_it_off():
    streak, technicians, presence = handlers()
    technicians.technician = replace(technicians.technician, chosen=ChosenStatus.UNAVAILABLE, missed=2)
    await streak.offered(offer("r1", NOW))
    await streak.withdrawn(withdrawal("r1"))
    assert technicians.stops == 0 and presence.channel.frames == []

    off, technicians, presence = handlers(limit=0)
    for request in ("a", "b", "c", "d"):
        await off.offered(offer(request, NOW))
        await off.withdrawn(withdrawal(request))
    assert technicians.technician.missed == 4 and technicians.stops == 0


async def test_an_acknowledged_queue_assignment_resets_the_streak_but_three_lapses_in_a_row_still_stop():
    streak, technicians, presence = handlers()
    clock = iter(NOW + timedelta(minutes=minute) for minute in range(100))
    for request in ("q1", "q2"):  # miss, miss
        await streak.assigned(assignment(request, alert=True))
        await streak.withdrawn(withdrawal(request, at=next(clock)))
    await streak.assigned(assignment("q3", alert=True))
    await streak.acknowledged(acknowledgement("q3", next(clock)))  # ack: their answer
    assert technicians.technician.missed == 0 and "q3" not in technicians.asks
    for request in ("q4", "q5"):  # miss, miss: two in a row, not three
        await streak.assigned(assignment(request, alert=True))
        await streak.withdrawn(withdrawal(request, at=next(clock)))
    assert technicians.technician.missed == 2
    assert technicians.stops == 0 and technicians.technician.chosen is ChosenStatus.AVAILABLE
    assert presence.channel.frames == []

    await streak.assigned(assignment("q6", alert=True))  # the third lapse in a row stops them
    await streak.withdrawn(withdrawal("q6", at=next(clock)))
    assert technicians.stops == 1 and technicians.technician.chosen is ChosenStatus.UNAVAILABLE
    assert [f["type"] for f in presence.channel.frames] == ["missed_requests"]


async def test_an_acknowledgement_arriving_after_a_later_miss_does_not_erase_it():
    streak, technicians, _presence = handlers()
    await streak.assigned(assignment("q1", alert=True))
    await streak.assigned(assignment("q2", alert=True))
    await streak.withdrawn(withdrawal("q2", at=NOW + timedelta(minutes=5)))  # missed at :05
    await streak.acknowledged(acknowledgement("q1", NOW + timedelta(minutes=1)))  # acked at :01, delivered late
    assert technicians.technician.missed == 1 and "q1" not in technicians.asks
    await streak.acknowledged(acknowledgement("q1", NOW + timedelta(minutes=1)))  # a redelivery: no change
    assert technicians.technician.missed == 1
