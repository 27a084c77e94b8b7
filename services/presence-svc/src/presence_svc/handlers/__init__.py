"""Use cases of presence-svc, and the container bootstrap hands to the entrypoints."""

from dataclasses import dataclass

from presence_svc.handlers.alerts import AlertHandlers
from presence_svc.handlers.preferences import PreferenceHandlers
from presence_svc.handlers.presence import PresenceHandlers
from presence_svc.handlers.technicians import TechnicianHandlers


@dataclass(frozen=True)
class Handlers:
    presence: PresenceHandlers
    """Chosen status, connections, grace, availability events."""
    alerts: AlertHandlers
    """Alerts over the WebSocket and by e-mail."""
    preferences: PreferenceHandlers
    technicians: TechnicianHandlers
    """Technician record changes (access)."""
