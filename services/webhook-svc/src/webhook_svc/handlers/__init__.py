"""Use cases of webhook-svc, and `Handlers`, the container bootstrap builds them into."""

from dataclasses import dataclass

from webhook_svc.handlers.endpoints import EndpointAdmin
from webhook_svc.handlers.recording import Recording
from webhook_svc.handlers.worker import DeliveryWorker


@dataclass(frozen=True)
class Handlers:
    admin: EndpointAdmin
    """The admin API: endpoints, secrets, delivery logs, "send again"."""
    recording: Recording
    """Events in: one delivery recorded per subscribed endpoint."""
    worker: DeliveryWorker
    """Deliveries out: signed, in order per request, retried with backoff."""
