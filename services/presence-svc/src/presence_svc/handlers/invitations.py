"""Invitations to join a colleague's chat, as the help centers see them: the colleague's
alert (with the note) and its end, why nobody joined (for the chat's technician), and the
chats each one has open as guests join and leave.

Like the transfer frames (`handlers.transfers`), these are not recorded for a replay: a help
center that (re)connects reads the invitations still open to it with the transfers
(`GET /api/dispatch/transfers`), dispatch holding the truth."""

from contracts import (
    Envelope,
    RequestColleagueInvited,
    RequestColleagueJoined,
    RequestColleagueLeft,
    RequestInvitationLapsed,
)
from contracts.vocabulary import TransferLapseReason
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.handlers.presence import PresenceHandlers

LAPSE_MESSAGES = {
    TransferLapseReason.DECLINED: "{name} declined to join the chat.",
    TransferLapseReason.EXPIRED: "{name} did not answer your invitation in time.",
    TransferLapseReason.WITHDRAWN: "The invitation to {name} was withdrawn.",
    TransferLapseReason.CHAT_ENDED: "The chat ended before {name} answered your invitation.",
}


def invitation_frame(data: RequestColleagueInvited) -> dict[str, object]:
    return {
        "type": "invitation_offer",
        "request_id": data.request_id,
        "session_id": f"cht_{data.request_id}",
        "company_id": data.company_id,
        "from_name": data.from_name,
        "customer_name": data.customer_name,
        "description": data.description,
        "note": data.note,
        "expires_at": data.expires_at.isoformat(),
    }


def closed_frame(request_id: str, reason: str) -> dict[str, object]:
    return {"type": "invitation_closed", "request_id": request_id, "reason": reason}


def lapsed_frame(data: RequestInvitationLapsed) -> dict[str, object]:
    return {
        "type": "invitation_lapsed",
        "request_id": data.request_id,
        "reason": data.reason.value,
        "message": LAPSE_MESSAGES[data.reason].format(name=data.to_name or "Your colleague"),
    }


class InvitationAlerts:
    def __init__(self, technicians: TechnicianRepository, presence: PresenceHandlers) -> None:
        self.technicians = technicians
        self.presence = presence

    async def invited(self, event: Envelope[RequestColleagueInvited]) -> None:
        data = event.data
        colleague = await self.technicians.get(data.to_technician_id)
        # presence's own record decides: a colleague of another company is never alerted.
        if colleague is None or not colleague.can_see_company(data.account_id, data.company_id):
            return
        await self.presence.channel.send(data.to_technician_id, invitation_frame(data))

    async def lapsed(self, event: Envelope[RequestInvitationLapsed]) -> None:
        data = event.data
        await self.presence.channel.send(data.to_technician_id, closed_frame(data.request_id, data.reason.value))
        await self.presence.channel.send(data.from_technician_id, lapsed_frame(data))

    async def joined(self, event: Envelope[RequestColleagueJoined]) -> None:
        """The colleague joined: the alert ends on their other help centers, and the chat
        counts among the chats they have open."""
        data = event.data
        await self.technicians.chat_opened(data.technician_id, data.request_id)
        await self.presence.channel.send(data.technician_id, closed_frame(data.request_id, "accepted"))
        await self.presence.announce(data.technician_id)

    async def left(self, event: Envelope[RequestColleagueLeft]) -> None:
        data = event.data
        await self.technicians.chat_closed(data.technician_id, data.request_id)
        await self.presence.announce(data.technician_id)
