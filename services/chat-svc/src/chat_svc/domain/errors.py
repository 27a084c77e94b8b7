"""Refusals of the chat domain, each with a stable code clients can act on."""

from servicekit.exceptions import Conflict, DomainError, Forbidden, NotFound, TooManyRequests


class SessionNotFound(NotFound):
    code = "session_not_found"


class NotYourSession(Forbidden):
    code = "not_your_session"


class WrongRole(Forbidden):
    code = "wrong_role"


class UnknownTechnician(Forbidden):
    code = "unknown_technician"


class SessionEnded(Conflict):
    code = "session_ended"


class SessionStillActive(Conflict):
    code = "session_active"


class MessageTooLong(DomainError):
    code = "message_too_long"


class EmptyMessage(DomainError):
    code = "empty_message"


class OutcomeRequired(DomainError):
    code = "outcome_required"


class UnknownMessage(NotFound):
    code = "unknown_message"


class RateLimited(TooManyRequests):
    code = "rate_limited"


class TooManySockets(TooManyRequests):
    code = "too_many_sockets"


class InvalidFrame(DomainError):
    code = "invalid_frame"


class FrameTooLarge(DomainError):
    code = "frame_too_large"


class InvalidCannedReply(DomainError):
    status_code = 422
    code = "invalid_canned_reply"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class DuplicateShortcut(Conflict):
    code = "duplicate_shortcut"


class CannedReplyNotFound(NotFound):
    code = "canned_reply_not_found"


class TooManyCannedReplies(Conflict):
    code = "too_many_canned_replies"


class InvalidRating(DomainError):
    status_code = 422
    code = "invalid_rating"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyRated(Conflict):
    code = "already_rated"
