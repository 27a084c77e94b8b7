"""Use cases of presence-svc, and the container bootstrap hands to the entrypoints."""

from dataclasses import dataclass

from presence_svc.handlers.alerts import AlertHandlers
from presence_svc.handlers.invitations import InvitationAlerts
from presence_svc.handlers.preferences import PreferenceHandlers
from presence_svc.handlers.presence import PresenceHandlers
from presence_svc.handlers.status_log import StatusLog
from presence_svc.handlers.streak import StreakHandlers
from presence_svc.handlers.technicians import TechnicianHandlers
from presence_svc.handlers.transfers import TransferAlerts


@dataclass(frozen=True)
class Handlers:
    presence: PresenceHandlers
    """Chosen status, connections, grace, availability events."""
    alerts: AlertHandlers
    """Alerts over the WebSocket and by e-mail."""
    preferences: PreferenceHandlers
    technicians: TechnicianHandlers
    """Technician record changes (access)."""
    streak: StreakHandlers
    """Missed requests in a row, chats open."""
    status_log: StatusLog
    """Shown state, since when, and its history."""
    transfers: TransferAlerts
    """Transfers between colleagues, on their help centers."""
    invitations: InvitationAlerts
    """Invitations to join a colleague's chat, on the help centers; guests' chats open."""
