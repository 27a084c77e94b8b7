"""Invitations to join a colleague's chat, as the help centers see them (frames in
`handover`): a guest who joins or leaves counts the chat among their open chats or not."""

from contracts import Envelope, RequestColleagueJoined, RequestColleagueLeft
from contracts.vocabulary import TransferLapseReason
from presence_svc.handlers.handover import HandOverAlerts


class InvitationAlerts(HandOverAlerts):
    kind = "invitation"
    lapse_messages = {
        TransferLapseReason.DECLINED: "{name} declined to join the chat.",
        TransferLapseReason.EXPIRED: "{name} did not answer your invitation in time.",
        TransferLapseReason.WITHDRAWN: "The invitation to {name} was withdrawn.",
        TransferLapseReason.CHAT_ENDED: "The chat ended before {name} answered your invitation.",
    }

    async def joined(self, event: Envelope[RequestColleagueJoined]) -> None:
        data = event.data
        after = await self.technicians.chat_opened(data.technician_id, data.request_id)
        await self.taken(data.technician_id, data.request_id)
        await self.presence.announce(data.technician_id, after)

    async def left(self, event: Envelope[RequestColleagueLeft]) -> None:
        data = event.data
        after = await self.technicians.chat_closed(data.technician_id, data.request_id)
        await self.presence.announce(data.technician_id, after)
