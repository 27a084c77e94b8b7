"""What every routing use case shares: the events it stages, and rejecting a request."""

from collections.abc import Callable, Mapping
from typing import Any

from contracts import Envelope, EventPayload
from contracts.vocabulary import RejectionReason
from dispatch_svc.adapters.requests import RequestRepository
from dispatch_svc.domain import announcements
from dispatch_svc.domain import request as requests
from dispatch_svc.domain.errors import NotYourCompany, RequestClosed, RequestNotFound
from dispatch_svc.handlers.clock import now
from servicekit.logging import get_logger

log = get_logger(__name__)

Doc = dict[str, Any]
MakeEvent = Callable[..., Envelope[Any]]

# A request is claimed by one worker per attempt; many attempts mean heavy contention, and
# whatever is left is picked up again by the next event or sweep.
MAX_ATTEMPTS = 50


async def visible_request(repository: RequestRepository, request_id: str, companies: list[str]) -> Doc:
    """The live request, if it belongs to one of `companies`; else why not (unknown, another
    company's, or finished)."""
    request = await repository.get(request_id)
    if request is None:
        archived = await repository.archived(request_id)
        if archived is None:
            raise RequestNotFound(request_id)
        if archived["company_id"] not in companies:
            raise NotYourCompany()
        raise RequestClosed(archived["state"])
    if request["company_id"] not in companies:
        raise NotYourCompany()
    return request


class Announcer:
    """Builds the envelopes of the events dispatch publishes (with the request's correlation id)."""

    def __init__(self, make_event: MakeEvent) -> None:
        self._make_event = make_event

    def about(self, request: Mapping[str, Any], payload: EventPayload) -> Envelope[Any]:
        return self._make_event(payload, correlation_id=request["correlation_id"])

    def event(self, payload: EventPayload, *, correlation_id: str) -> Envelope[Any]:
        return self._make_event(payload, correlation_id=correlation_id)


class Rejections:
    def __init__(self, requests: RequestRepository, announce: Announcer) -> None:
        self.requests = requests
        self.announce = announce

    async def reject(self, request: Doc, reason: RejectionReason, message: str | None = None) -> bool:
        event = self.announce.about(request, announcements.rejected(request, reason, message))
        if await self.requests.apply(request, requests.reject(request, now()), [event]) is None:
            return False
        log.info("request rejected", request_id=request["_id"], reason=reason.value)
        return True
