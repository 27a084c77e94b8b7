"""Serving a company's line: who gets the next request, as a pure plan.

The Queue handler follows the same rules one conditional write at a time (`head_of_line`,
`round_robin`, `claim_slot`); `serve` plays them out in memory, which is what the
property-based tests check: FIFO within a company, never above capacity, one assignee.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dispatch_svc.domain import request as requests
from dispatch_svc.domain.request import State
from dispatch_svc.domain.technician import claim_slot, round_robin, routable_for

Doc = Mapping[str, Any]


def head_of_line(waiting: Sequence[Doc]) -> Doc | None:
    """The request of a company's line to serve next (waiting = its NEW and QUEUED ones)."""
    return min(waiting, key=requests.fifo_key, default=None)


def may_skip_the_queue(request: Doc, waiting: Sequence[Doc]) -> bool:
    """Only the head of the company's line may be assigned at once: newcomers queue."""
    return not requests.ahead_of(request, waiting)


def serve(
    company_id: str, waiting: Sequence[Doc], technicians: Sequence[Doc], at: datetime
) -> tuple[list[Doc], list[Doc]]:
    """Assigns the company's waiting requests, head first, while someone has room.

    Returns (requests after, technicians after)."""
    line: list[Doc] = sorted((dict(r) for r in waiting), key=requests.fifo_key)
    staff = {t["_id"]: dict(t) for t in technicians}
    for index, request in enumerate(line):
        candidates = round_robin(
            (t for t in staff.values() if routable_for(t, company_id)), passed_over=request.get("passed_over", [])
        )
        claimed = None
        for technician in candidates:
            claimed = claim_slot(technician, request["_id"])
            if claimed is not None:
                break
        if claimed is None:
            break  # FIFO: nobody behind the head is served before it
        staff[claimed["_id"]] = {**claimed, "last_assigned_at": at}
        change = requests.assign(request, claimed["_id"], at, acknowledged=False)
        line[index] = {**request, **change.set}
    return line, list(staff.values())


def waiting_states() -> list[State]:
    return [State.NEW, State.QUEUED]
