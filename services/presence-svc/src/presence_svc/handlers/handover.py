"""A hand-over as the help centers see it — a transfer of the chat or an invitation to join
it: the colleague's alert (with the note) and its end, and, for the chat's technician, why
nobody took it. `transfers` and `invitations` differ only in their words and in what a
taken hand-over changes (`TransferAlerts`, `InvitationAlerts`).

These frames are not recorded for a replay: a help center that (re)connects asks dispatch for
the hand-overs still open to it (`GET /api/dispatch/transfers`), dispatch holding the truth."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from contracts import Envelope
from contracts.vocabulary import TransferLapseReason
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.handlers.presence import PresenceHandlers


class Offered(Protocol):
    """What both offer events carry (`RequestTransferOffered`, `RequestColleagueInvited`)."""

    @property
    def request_id(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def company_id(self) -> str: ...
    @property
    def to_technician_id(self) -> str: ...
    @property
    def from_name(self) -> str: ...
    @property
    def customer_name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def note(self) -> str: ...
    @property
    def expires_at(self) -> datetime: ...


class Lapsed(Protocol):
    """What both lapse events carry (`RequestTransferLapsed`, `RequestInvitationLapsed`)."""

    @property
    def request_id(self) -> str: ...
    @property
    def to_technician_id(self) -> str: ...
    @property
    def from_technician_id(self) -> str: ...
    @property
    def to_name(self) -> str: ...
    @property
    def reason(self) -> TransferLapseReason: ...


class HandOverAlerts:
    kind: str
    """The frames' prefix: `transfer_offer`, `invitation_closed`…"""
    lapse_messages: Mapping[TransferLapseReason, str]
    """What the chat's technician reads when nobody took it; `{name}` is the colleague."""

    def __init__(self, technicians: TechnicianRepository, presence: PresenceHandlers) -> None:
        self.technicians = technicians
        self.presence = presence

    def offer_frame(self, data: Offered) -> dict[str, object]:
        return {
            "type": f"{self.kind}_offer",
            "request_id": data.request_id,
            "session_id": f"cht_{data.request_id}",
            "company_id": data.company_id,
            "from_name": data.from_name,
            "customer_name": data.customer_name,
            "description": data.description,
            "note": data.note,
            "expires_at": data.expires_at.isoformat(),
        }

    def closed_frame(self, request_id: str, reason: str) -> dict[str, object]:
        return {"type": f"{self.kind}_closed", "request_id": request_id, "reason": reason}

    def lapsed_frame(self, data: Lapsed) -> dict[str, object]:
        return {
            "type": f"{self.kind}_lapsed",
            "request_id": data.request_id,
            "reason": data.reason.value,
            "message": self.lapse_messages[data.reason].format(name=data.to_name or "Your colleague"),
        }

    async def offered(self, event: Envelope[Any]) -> None:
        data: Offered = event.data
        colleague = await self.technicians.get(data.to_technician_id)
        # presence's own record decides: a colleague of another company is never alerted.
        if colleague is None or not colleague.can_see_company(data.account_id, data.company_id):
            return
        await self.presence.channel.send(data.to_technician_id, self.offer_frame(data))

    async def lapsed(self, event: Envelope[Any]) -> None:
        data: Lapsed = event.data
        await self.presence.channel.send(data.to_technician_id, self.closed_frame(data.request_id, data.reason.value))
        await self.presence.channel.send(data.from_technician_id, self.lapsed_frame(data))

    async def taken(self, technician_id: str, request_id: str) -> None:
        """The colleague took it: the alert ends on their other help centers."""
        await self.presence.channel.send(technician_id, self.closed_frame(request_id, "accepted"))
