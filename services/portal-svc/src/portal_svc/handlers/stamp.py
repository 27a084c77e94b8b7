"""How a use case turns an event payload into the envelope it stores with its change."""

from typing import Any, Protocol

from contracts import Envelope, EventPayload


class Stamp(Protocol):
    """`Runtime.event`: the envelope (producer, ids, time) around a payload."""

    def __call__(self, data: EventPayload, *, correlation_id: str) -> Envelope[Any]: ...
