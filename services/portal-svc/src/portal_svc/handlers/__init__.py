"""Use cases of portal-svc, one class per area, gathered in `Handlers` by bootstrap."""

from dataclasses import dataclass

from portal_svc.adapters.portal_directory import PortalDirectory
from portal_svc.adapters.ratelimit import Limit
from portal_svc.handlers.accounts import Accounts
from portal_svc.handlers.auth import StaffAuth
from portal_svc.handlers.availability import AvailabilityReadModel
from portal_svc.handlers.companies import Companies
from portal_svc.handlers.customer_panel import CustomerPanel
from portal_svc.handlers.customers import CustomerPortal
from portal_svc.handlers.dashboard import Dashboard
from portal_svc.handlers.housekeeping import Housekeeping
from portal_svc.handlers.messages import OfflineMessages
from portal_svc.handlers.portals import Portals
from portal_svc.handlers.request_status import RequestStatus
from portal_svc.handlers.seed import DemoSeed
from portal_svc.handlers.supervisors import Supervisors
from portal_svc.handlers.technicians import Technicians
from portal_svc.handlers.webhook_alerts import WebhookAlerts


@dataclass(frozen=True)
class Handlers:
    auth: StaffAuth
    accounts: Accounts
    companies: Companies
    technicians: Technicians
    portals: Portals
    customers: CustomerPortal
    customer_panel: CustomerPanel
    request_status: RequestStatus
    availability: AvailabilityReadModel
    seed: DemoSeed
    submissions: Limit
    """Submissions per client address (checked before the body is even parsed)."""
    housekeeping: Housekeeping
    messages: OfflineMessages
    """Offline messages: left by customers, e-mailed, listed and answered by technicians."""
    dashboard: Dashboard
    """The supervisor dashboard's day figures and live state (read models fed by events)."""
    directory: PortalDirectory
    """The customer side's cache of portals (bootstrap passes its changes to every replica)."""
    supervisors: Supervisors
    """An account's read-only dashboard viewers (admin-managed)."""
    """Periodic and once-per-deployment upkeep (archiving, retention, limits, re-announcing)."""
    webhook_alerts: WebhookAlerts
    """E-mails the admins when webhook-svc disabled one of their endpoints."""
