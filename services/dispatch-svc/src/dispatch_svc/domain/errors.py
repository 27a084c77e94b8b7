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


class CodeNotFound(NotFound):
    def __init__(self, code_id: str) -> None:
        super().__init__(f"you have no live connection code {code_id}", code="code_not_found")
