"""Refusals a technician can meet over HTTP."""

from servicekit.exceptions import Conflict, Forbidden, NotFound


class RequestNotFound(NotFound):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"request {request_id} does not exist", code="request_not_found")


class NotYourCompany(Forbidden):
    def __init__(self) -> None:
        super().__init__("this request belongs to a company you cannot access", code="company_forbidden")


class AlreadyTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("already taken by another technician", code="already_taken")


class NotOfferedToYou(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "this request is not offered to you (are you available for chat requests?)",
            code="not_offered",
        )


class AtCapacity(Conflict):
    def __init__(self) -> None:
        super().__init__("you already have as many chats as your capacity allows; end one first", code="at_capacity")


class RequestClosed(Conflict):
    def __init__(self, state: str) -> None:
        super().__init__(f"this request is no longer open (it is {state})", code="request_closed")


class NotAssignedToYou(Conflict):
    def __init__(self) -> None:
        super().__init__("this request is assigned to another technician", code="not_assigned_to_you")


class TooManyCodes(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you already have {limit} live connection codes; revoke one or let one expire",
            code="too_many_codes",
        )


class NotPhoneMode(Conflict):
    def __init__(self, mode: str) -> None:
        super().__init__(
            f"this company's portal is in {mode.capitalize()} mode: its customers have nowhere to enter a "
            "connection code (codes are for Phone-mode portals)",
            code="not_phone_mode",
        )


class CodeNotFound(NotFound):
    def __init__(self, code_id: str) -> None:
        super().__init__(f"you have no live connection code {code_id}", code="code_not_found")


class NotYourChat(Conflict):
    def __init__(self) -> None:
        super().__init__("only the technician of this chat can transfer it", code="not_your_chat")


class NotAColleague(Conflict):
    def __init__(self) -> None:
        super().__init__("that technician does not serve this request's company", code="not_a_colleague")


class ColleagueUnavailable(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not available for chat requests right now", code="colleague_unavailable")


class ColleagueFull(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} already has as many chats as their capacity allows", code="colleague_full")


class TransferToYourself(Conflict):
    def __init__(self) -> None:
        super().__init__("this chat is already yours; pick a colleague", code="transfer_to_yourself")


class TransferPending(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"a transfer to {name} is already waiting for an answer; wait for it or for it to lapse",
            code="transfer_pending",
        )


class NoTransferForYou(Conflict):
    def __init__(self) -> None:
        super().__init__("this chat is not being transferred to you (it may have lapsed)", code="no_transfer")


class UnacknowledgedTransfer(Conflict):
    def __init__(self) -> None:
        super().__init__("acknowledge this request before transferring it", code="not_acknowledged")


class NoQueueInPhoneMode(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "a Phone-mode chat has no queue to go back to; transfer it to a colleague instead", code="no_queue"
        )


class NotAvailableToTake(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "you are not available for this company's chat requests; choose Available first", code="not_available"
        )


class AlreadyInChat(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is already in this chat", code="already_in_chat")


class ChatFull(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(f"this chat already has {limit} technicians, the most one chat can have", code="chat_full")


class NotYourChatToShare(Conflict):
    def __init__(self) -> None:
        super().__init__("only the technician of this chat can invite a colleague to it", code="not_your_chat")


class NoInvitationForYou(Conflict):
    def __init__(self) -> None:
        super().__init__("you are not invited to this chat (the invitation may have lapsed)", code="no_invitation")


class NotInChat(Conflict):
    def __init__(self) -> None:
        super().__init__("you are not a guest of this chat", code="not_in_chat")


class ColleaguesInChat(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "colleagues you invited are still in this chat; it can go back to the queue once they have left",
            code="colleagues_in_chat",
        )


class InvitationPending(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"an invitation to {name} is already waiting for an answer; wait for it or for it to lapse",
            code="invitation_pending",
        )
