"""Use cases of chat-svc, and `Handlers`, the container bootstrap builds them into."""

from dataclasses import dataclass

from chat_svc.adapters.replicas import Replicas, SocketCounter
from chat_svc.handlers.companies import CompanyNames
from chat_svc.handlers.lifecycle import Lifecycle
from chat_svc.handlers.live import LiveChat
from chat_svc.handlers.ports import LiveSockets
from chat_svc.handlers.rating import Ratings
from chat_svc.handlers.reading import Reading
from chat_svc.handlers.technicians import TechnicianRecords
from chat_svc.handlers.timeline import Timeline


@dataclass(frozen=True)
class Handlers:
    lifecycle: Lifecycle
    """Sessions opened, transferred, ended, abandoned, cancelled, archived."""
    live: LiveChat
    """Who joins a socket, what they send and receive."""
    reading: Reading
    """Listing and reading sessions, transcripts."""
    technicians: TechnicianRecords
    """chat-svc's record of each technician's access (fed by TechnicianUpdated)."""
    timeline: Timeline
    sockets: LiveSockets
    """This replica's sockets, and the fan-out to every replica's."""
    replicas: Replicas
    """This replica's lease, and which replicas are alive."""
    counter: SocketCounter
    """Open sockets per token, across replicas."""
    ratings: Ratings
    """The customer's rating of an ended chat."""
    companies: CompanyNames
    """Company names (fed by CompanyUpdated), shown with sessions for `{company_name}`."""
