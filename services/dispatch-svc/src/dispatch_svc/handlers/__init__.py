"""Dispatch's use cases, one module per area; `Handlers` holds them (built by `bootstrap`)."""

from dataclasses import dataclass

from dispatch_svc.config import Settings
from dispatch_svc.handlers.companies import CompanyDeletions
from dispatch_svc.handlers.inbox import Inbox
from dispatch_svc.handlers.invitation import Invitations
from dispatch_svc.handlers.lifecycle import RequestLifecycle
from dispatch_svc.handlers.phone import ConnectionCodes
from dispatch_svc.handlers.roster import TechnicianRoster
from dispatch_svc.handlers.routing import Router
from dispatch_svc.handlers.sweeper import Sweeper
from dispatch_svc.handlers.transfer import Transfers


@dataclass(frozen=True)
class Handlers:
    settings: Settings
    lifecycle: RequestLifecycle
    """Submitted, cancelled, chat ended; portal status."""
    roster: TechnicianRoster
    """The admin's record and presence of technicians."""
    router: Router
    """Routing by mode (`router.queue`, `router.web`, `router.phone`) and serving what waits."""
    inbox: Inbox
    """A technician's requests and accepting one (HTTP)."""
    codes: ConnectionCodes
    """Connection codes (HTTP and upkeep)."""
    sweeper: Sweeper
    transfers: Transfers
    """Handing a chat over to a colleague (HTTP; lapses through the sweeper)."""
    invitations: Invitations
    """Colleagues invited to join a chat, and leaving it (HTTP; lapses through the sweeper)."""
    companies: CompanyDeletions
    """A deleted company's waiting requests cancelled (`CompanyUpdated`)."""
