"""What webhook-svc refuses, with stable codes (mapped to JSON errors by servicekit)."""

from servicekit.exceptions import Conflict, DomainError, NotFound


class InvalidEndpoint(DomainError):
    """The endpoint URL (or its subscription) cannot be accepted."""

    status_code = 422
    code = "invalid_endpoint"


class EndpointNotFound(NotFound):
    code = "endpoint_not_found"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"


class DeliveryConflict(Conflict):
    code = "delivery_conflict"


class TooManyEndpoints(Conflict):
    code = "too_many_endpoints"
