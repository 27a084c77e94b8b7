"""Errors the domain raises; servicekit maps them to JSON 4xx responses."""

from servicekit.exceptions import Conflict, DomainError, Forbidden, NotFound, TooManyRequests, Unauthorized


class Invalid(DomainError):
    """Input that passed schema validation but breaks a rule (e.g. a mode/type mismatch)."""

    status_code = 422
    code = "invalid"


__all__ = ["Conflict", "DomainError", "Forbidden", "Invalid", "NotFound", "TooManyRequests", "Unauthorized"]
