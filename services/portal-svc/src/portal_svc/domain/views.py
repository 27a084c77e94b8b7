"""What the customer sees at a portal (SPEC §1 view matrix)."""

from dataclasses import dataclass, field
from enum import StrEnum

from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType


class View(StrEnum):
    UNAVAILABLE = "unavailable"
    NO_TECHNICIAN = "no_technician"
    FORM = "form"
    CODE_ENTRY = "code_entry"
    CLOSED = "closed"


MESSAGES: dict[View, str] = {
    View.UNAVAILABLE: "Service unavailable — we apologise for this temporary inconvenience.",
    View.NO_TECHNICIAN: "No technician is available right now. Please try again a little later.",
    View.FORM: "Tell us how we can help.",
    View.CODE_ENTRY: "Enter the 9-digit code your technician gave you on the phone.",
    View.CLOSED: "We are closed right now. You can leave us a message.",
}


@dataclass(frozen=True)
class AvailableTechnician:
    technician_id: str
    display_name: str


@dataclass(frozen=True)
class PortalView:
    view: View
    technicians: list[AvailableTechnician] = field(default_factory=list)
    text: str = ""
    """Overrides the view's standard message (a closed portal says when it opens again)."""

    @property
    def message(self) -> str:
        return self.text or MESSAGES[self.view]


def decide_view(
    status: PortalStatus,
    mode: ConnectionMode,
    portal_type: PortalType,
    available: list[AvailableTechnician],
    *,
    closed_text: str | None = None,
) -> PortalView:
    """`closed_text` is set when the portal is outside its business hours."""
    if status is PortalStatus.INACTIVE:
        return PortalView(View.UNAVAILABLE)
    if closed_text is not None:
        return PortalView(View.CLOSED, text=closed_text)
    if mode is ConnectionMode.PHONE:
        return PortalView(View.CODE_ENTRY)
    if mode is ConnectionMode.QUEUE:
        # Queue requests wait for the next technician, so nobody being free is no obstacle.
        return PortalView(View.FORM)
    if not available:
        return PortalView(View.NO_TECHNICIAN)
    listed = available if portal_type is PortalType.SMART_MATCH else []
    return PortalView(View.FORM, sorted(listed, key=lambda t: (t.display_name.lower(), t.technician_id)))
