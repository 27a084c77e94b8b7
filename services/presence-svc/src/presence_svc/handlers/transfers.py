"""Transfers between colleagues, as the help centers see them (frames in `handover`): when the
colleague takes the chat it moves from one technician's open chats to the other's; sent back
to the queue, it leaves its technician's."""

from contracts import Envelope, RequestReturnedToQueue, RequestTransferred
from contracts.vocabulary import TransferLapseReason
from presence_svc.handlers.handover import HandOverAlerts


class TransferAlerts(HandOverAlerts):
    kind = "transfer"
    lapse_messages = {
        TransferLapseReason.DECLINED: "{name} declined the transfer; the chat stays with you.",
        TransferLapseReason.EXPIRED: "{name} did not answer in time; the chat stays with you.",
        TransferLapseReason.WITHDRAWN: "The transfer to {name} was withdrawn; the chat stays with you.",
        TransferLapseReason.CHAT_ENDED: "The chat ended before {name} answered your transfer.",
    }

    async def transferred(self, event: Envelope[RequestTransferred]) -> None:
        data = event.data
        giver = await self.technicians.chat_closed(data.from_technician_id, data.request_id)
        taker = await self.technicians.chat_opened(data.to_technician_id, data.request_id)
        await self.taken(data.to_technician_id, data.request_id)
        await self.presence.announce(data.from_technician_id, giver)
        await self.presence.announce(data.to_technician_id, taker)

    async def returned(self, event: Envelope[RequestReturnedToQueue]) -> None:
        """Sent back to the queue: no longer a chat its technician has open."""
        data = event.data
        after = await self.technicians.chat_closed(data.from_technician_id, data.request_id)
        await self.presence.announce(data.from_technician_id, after)
