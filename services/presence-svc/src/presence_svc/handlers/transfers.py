"""Transfers between colleagues, as the help centers see them: the colleague's alert (with the
note), its end, and — for the first technician — why the chat stayed with them; also the
chats each one has open.

These frames are not recorded for a replay: a help center that (re)connects asks dispatch for
the transfers still open to it (`GET /api/dispatch/transfers`), dispatch holding the truth."""

from contracts import (
    Envelope,
    RequestReturnedToQueue,
    RequestTransferLapsed,
    RequestTransferOffered,
    RequestTransferred,
)
from contracts.vocabulary import TransferLapseReason
from presence_svc.adapters.technicians import TechnicianRepository
from presence_svc.handlers.presence import PresenceHandlers

LAPSE_MESSAGES = {
    TransferLapseReason.DECLINED: "{name} declined the transfer; the chat stays with you.",
    TransferLapseReason.EXPIRED: "{name} did not answer in time; the chat stays with you.",
    TransferLapseReason.WITHDRAWN: "The transfer to {name} was withdrawn; the chat stays with you.",
    TransferLapseReason.CHAT_ENDED: "The chat ended before {name} answered your transfer.",
}


def offer_frame(data: RequestTransferOffered) -> dict[str, object]:
    return {
        "type": "transfer_offer",
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
    return {"type": "transfer_closed", "request_id": request_id, "reason": reason}


def lapsed_frame(data: RequestTransferLapsed) -> dict[str, object]:
    name = data.to_name or "Your colleague"
    return {
        "type": "transfer_lapsed",
        "request_id": data.request_id,
        "reason": data.reason.value,
        "message": LAPSE_MESSAGES[data.reason].format(name=name),
    }


class TransferAlerts:
    def __init__(self, technicians: TechnicianRepository, presence: PresenceHandlers) -> None:
        self.technicians = technicians
        self.presence = presence

    async def offered(self, event: Envelope[RequestTransferOffered]) -> None:
        data = event.data
        colleague = await self.technicians.get(data.to_technician_id)
        if colleague is None or not colleague.can_see_company(data.account_id, data.company_id):
            return
        await self.presence.channel.send(data.to_technician_id, offer_frame(data))

    async def transferred(self, event: Envelope[RequestTransferred]) -> None:
        data = event.data
        await self.technicians.chat_closed(data.from_technician_id, data.request_id)
        await self.technicians.chat_opened(data.to_technician_id, data.request_id)
        await self.presence.channel.send(data.to_technician_id, closed_frame(data.request_id, "accepted"))
        await self.presence.announce(data.from_technician_id)
        await self.presence.announce(data.to_technician_id)

    async def returned(self, event: Envelope[RequestReturnedToQueue]) -> None:
        """Sent back to the queue: no longer a chat its technician has open."""
        data = event.data
        await self.technicians.chat_closed(data.from_technician_id, data.request_id)
        await self.presence.announce(data.from_technician_id)

    async def lapsed(self, event: Envelope[RequestTransferLapsed]) -> None:
        data = event.data
        await self.presence.channel.send(data.to_technician_id, closed_frame(data.request_id, data.reason.value))
        await self.presence.channel.send(data.from_technician_id, lapsed_frame(data))
