"""Set-up shared by the transfer tests: Ana's chat, and colleagues on duty."""

from ..support import available, submitted, unique


async def chat_of_ana(svc, company: str, mode: str = "queue") -> str:
    """A request Ana took (Web: accepted; Queue: assigned and acknowledged): her chat."""
    await colleague(svc, "tec_ana", company)
    request_id = unique("req")
    await svc.bus.send(submitted(request_id, company, mode=mode))
    first = "RequestAssigned" if mode == "queue" else "RequestOffered"
    await svc.wait(first, lambda d: d["request_id"] == request_id)
    accepted = await svc.http.post(f"/requests/{request_id}/accept", headers=svc.technician("tec_ana", [company]))
    assert accepted.status_code == 200, accepted.text
    return request_id


async def colleague(svc, technician: str, company: str, capacity: int = 1, sequence: int = 1) -> None:
    """The technician is available for the company, as dispatch has recorded."""
    await svc.bus.send(available(technician, [company], sequence, capacity=capacity))
    await svc.technician_record(technician, available=True)
