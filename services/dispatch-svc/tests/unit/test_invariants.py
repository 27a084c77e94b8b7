"""Property-based tests of dispatch's invariants, on the pure domain (no store, no broker):
never two assignees, never above capacity, FIFO within a company."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch_svc.domain import invitation as invitations
from dispatch_svc.domain import request as requests
from dispatch_svc.domain import transfer as transfers
from dispatch_svc.domain.queueing import head_of_line, may_skip_the_queue, serve
from dispatch_svc.domain.request import TRANSITIONS, Command, IllegalTransition, State
from dispatch_svc.domain.technician import claim_slot, release_slot

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TECHNICIANS = ["tec_a", "tec_b", "tec_c"]

commands = st.lists(st.tuples(st.sampled_from(list(Command)), st.sampled_from(TECHNICIANS)), max_size=40)


def step(request: dict, command: Command, technician: str, at: datetime) -> dict:
    match command:
        case Command.ASSIGN:
            change = requests.assign(request, technician, at, acknowledged=False)
        case Command.REQUEUE:
            change = requests.requeue(request)
        case Command.QUEUE:
            change = requests.queue(request)
        case Command.OFFER:
            change = requests.offer(request, [technician], at)
        case Command.WITHDRAW:
            change = requests.withdraw(request, [])
        case Command.ACKNOWLEDGE:
            change = requests.acknowledge(request)
        case Command.COMPLETE:
            change = requests.complete(request, at)
        case Command.CANCEL:
            change = requests.cancel(request, at)
        case Command.REJECT:
            change = requests.reject(request, at)
        case Command.FENCE:
            change = requests.fence(request, at)
        case Command.OFFER_TRANSFER:
            me, colleague = {"_id": request.get("technician_id")}, {"_id": technician}
            change = transfers.offer(request, me, colleague, "", at, at + timedelta(minutes=1))
        case Command.DROP_TRANSFER:
            change = transfers.drop(request)
        case Command.TRANSFER:
            if "transfer" not in request:  # nothing offered: there is nobody to take it
                raise IllegalTransition(State(request["state"]), command)
            change = transfers.accept(request, at)
        case Command.REOFFER:
            change = transfers.return_to_line({**request, "mode": "web"}, "", offered_to=[], expires_at=at)
        case Command.INVITE:
            me, colleague = {"_id": request.get("technician_id")}, {"_id": technician}
            change = invitations.invite(request, me, colleague, "", at, at + timedelta(minutes=1))
        case Command.DROP_INVITATION:
            change = invitations.drop(request)
        case Command.JOIN:
            if "invitation" not in request:  # nobody invited: there is nobody to join
                raise IllegalTransition(State(request["state"]), command)
            change = invitations.join(request, at)
        case Command.LEAVE:
            change = invitations.leave(request, technician)
        case Command.CLOSE_HANDOVERS:
            change = invitations.close(request)
    after = {**request, **change.set}
    for field in change.unset:
        after.pop(field, None)
    return after


@given(commands)
def test_a_request_never_has_two_assignees(script):
    request = {"_id": "req", "state": State.NEW, "assignment": 0}
    holder = None
    for index, (command, technician) in enumerate(script):
        before = request
        try:
            request = step(request, command, technician, T0 + timedelta(seconds=index))
        except IllegalTransition:
            assert (State(before["state"]), command) not in TRANSITIONS or command in (Command.TRANSFER, Command.JOIN)
            continue
        if command is Command.ASSIGN:
            assert holder is None, "assigned while already assigned"
            holder = technician
        if command is Command.TRANSFER:
            assert holder is not None, "transferred while nobody had it"
            holder = request["transfer"]["to"] if "transfer" in request else before["transfer"]["to"]
        if request["state"] != State.ASSIGNED and command in (Command.REQUEUE, Command.CANCEL, Command.REOFFER):
            holder = None
        if command in (Command.INVITE, Command.DROP_INVITATION, Command.JOIN, Command.LEAVE, Command.CLOSE_HANDOVERS):
            # Guests come and go; the chat stays its technician's.
            assert request.get("technician_id") == before.get("technician_id")
        if request["state"] == State.ASSIGNED:
            assert request["technician_id"] == holder
        elif request["state"] in (State.NEW, State.QUEUED, State.OFFERED):
            assert "technician_id" not in request


@given(
    st.integers(min_value=1, max_value=5),
    st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=9)), max_size=60),
)
def test_claims_never_exceed_capacity(capacity, script):
    technician = {"_id": "tec_a", "enabled": True, "capacity": capacity, "active": []}
    for claim, request_number in script:
        request_id = f"req_{request_number}"
        if claim:
            after = claim_slot(technician, request_id)
            if after is not None:
                technician = after
        else:
            technician = release_slot(technician, request_id)
        assert len(technician["active"]) <= capacity
        assert len(set(technician["active"])) == len(technician["active"])


waiting_requests = st.lists(
    st.tuples(st.integers(min_value=0, max_value=1000), st.sampled_from([State.NEW, State.QUEUED])),
    min_size=0,
    max_size=15,
    unique_by=lambda r: r[0],
)
staff = st.lists(
    st.tuples(st.integers(min_value=1, max_value=3), st.integers(min_value=0, max_value=3), st.booleans()),
    min_size=0,
    max_size=3,
)


def company_line(entries) -> list[dict]:
    return [
        {
            "_id": f"req_{n:04d}",
            "company_id": "cmp",
            "state": state,
            "queued_since": T0 + timedelta(seconds=n % 7),
            "assignment": 0,
        }
        for n, state in entries
    ]


def technicians_of(entries) -> list[dict]:
    return [
        {
            "_id": TECHNICIANS[i],
            "enabled": True,
            "available": available,
            "company_ids": ["cmp"],
            "available_for": ["cmp"],
            "capacity": capacity,
            "active": [f"busy_{i}_{k}" for k in range(min(busy, capacity))],
        }
        for i, (capacity, busy, available) in enumerate(entries)
    ]


@settings(max_examples=200)
@given(waiting_requests, staff)
def test_serving_a_company_is_fifo_and_within_capacity(entries, technicians_entries):
    line = company_line(entries)
    technicians = technicians_of(technicians_entries)
    after, staff_after = serve("cmp", line, technicians, T0)

    by_order = sorted(after, key=requests.fifo_key)
    served = [r["state"] == State.ASSIGNED for r in by_order]
    # FIFO: the assigned requests are exactly a prefix of the company's line.
    assert served == sorted(served, reverse=True)
    # Never above capacity, and each request is held by exactly the technician it names.
    for technician in staff_after:
        assert len(technician["active"]) <= technician["capacity"]
    holders = {r: t["_id"] for t in staff_after for r in t["active"]}
    for request in after:
        if request["state"] == State.ASSIGNED:
            assert holders[request["_id"]] == request["technician_id"]
    # Room left means the line is empty: nobody waits while a slot is free.
    free = sum(t["capacity"] - len(t["active"]) for t in staff_after if t["available"])
    assert free == 0 or all(served)


@given(waiting_requests)
def test_only_the_head_of_the_line_may_skip_the_queue(entries):
    line = company_line(entries)
    head = head_of_line(line)
    for request in line:
        assert may_skip_the_queue(request, line) == (request is head)
