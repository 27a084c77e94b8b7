"""Refusals of the domain, mapped to clear 4xx answers by servicekit.errors."""

from servicekit.exceptions import Conflict, DomainError, Forbidden, NotFound


class UnknownTechnician(NotFound):
    code = "unknown_technician"

    def __init__(self) -> None:
        super().__init__(
            "this technician is not known to presence-svc yet (no technician record was "
            "received from the portal service for it)"
        )


class TechnicianDisabled(Forbidden):
    code = "technician_disabled"

    def __init__(self) -> None:
        super().__init__("this technician was removed from the account")


class NoPortal(Conflict):
    code = "no_portal"

    def __init__(self) -> None:
        super().__init__(
            "none of your companies has a support portal yet, so there is no availability "
            "status to choose; ask an admin to create a portal"
        )


class DuplicateContact(Conflict):
    code = "duplicate_contact"

    def __init__(self, address: str) -> None:
        super().__init__(f"{address} is already one of your contacts")


class TooManyContacts(Conflict):
    code = "too_many_contacts"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} e-mail contacts; remove one first")


class UnknownContact(NotFound):
    code = "unknown_contact"

    def __init__(self, address: str) -> None:
        super().__init__(f"{address} is not one of your contacts")


class InvalidAddress(DomainError):
    status_code = 422
    code = "invalid_address"


class InvalidCursor(DomainError):
    status_code = 422
    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("this cursor is not one the previous page returned; start again without it")


class UnknownAccountTechnician(NotFound):
    code = "unknown_technician"

    def __init__(self) -> None:
        super().__init__("no technician with this id in your account")
