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
