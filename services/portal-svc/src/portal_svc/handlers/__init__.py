"""Use cases of portal-svc, one class per area, gathered in `Handlers` by bootstrap."""

from dataclasses import dataclass

from portal_svc.adapters.ratelimit import Limit
from portal_svc.handlers.accounts import Accounts
from portal_svc.handlers.auth import StaffAuth
from portal_svc.handlers.availability import AvailabilityReadModel
from portal_svc.handlers.customers import CustomerPortal
from portal_svc.handlers.housekeeping import Housekeeping
from portal_svc.handlers.portals import Portals
from portal_svc.handlers.request_status import RequestStatus
from portal_svc.handlers.seed import DemoSeed
from portal_svc.handlers.technicians import Technicians


@dataclass(frozen=True)
class Handlers:
    auth: StaffAuth
    accounts: Accounts
    technicians: Technicians
    portals: Portals
    customers: CustomerPortal
    request_status: RequestStatus
    availability: AvailabilityReadModel
    seed: DemoSeed
    submissions: Limit
    """Submissions per client address (checked before the body is even parsed)."""
    housekeeping: Housekeeping
    """Periodic and once-per-deployment upkeep (archiving, retention, limits, re-announcing)."""
