"""Alerts (the HelpAlert role): who gets one, and what the help center shows."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from presence_svc.domain.availability import ChosenStatus, Technician

# A Queue assignment has no expiry of its own; a help center that reconnects shortly after
# it still gets it, later ones do not (dispatch re-assigns unacknowledged work by then).
ASSIGNED_ALERT_REPLAY = timedelta(minutes=5)

# The reason of an `alert_withdrawn` frame when the technician lost access to the company
# (a help-center frame only: routing never hears of it).
ACCESS_REVOKED = "access_revoked"


class AlertKind(StrEnum):
    OFFER = "offer"
    ASSIGNED = "assigned"


@dataclass(frozen=True)
class Alert:
    request_id: str
    technician_id: str
    account_id: str
    company_id: str
    customer_name: str
    description: str
    portal_type: str
    expires_at: datetime | None
    kind: AlertKind
    issued_at: datetime

    @property
    def message_id(self) -> str:
        """The Message-ID of this alert's e-mail: the same for every attempt to send it (so
        a duplicate is recognisable), different for a newer alert on the same request."""
        issued = int(self.issued_at.timestamp() * 1000)
        return f"<alert.{self.request_id}.{self.technician_id}.{issued}@assistline.alerts>"

    @property
    def shown_until(self) -> datetime:
        """After this the alert is no longer shown (nor opened, if its event comes late)."""
        return self.expires_at if self.expires_at is not None else self.issued_at + ASSIGNED_ALERT_REPLAY

    def replayable(self, now: datetime) -> bool:
        return self.shown_until > now


def may_alert(technician: Technician | None, alert: Alert, *, connected: bool) -> bool:
    """Only connected technicians who chose Available, and only for their own companies."""
    return (
        still_visible(technician, alert)
        and technician is not None
        and technician.chosen is ChosenStatus.AVAILABLE
        and connected
    )


@dataclass(frozen=True)
class PendingEmail:
    """An alert e-mail recorded with its alert and not yet confirmed sent."""

    alert: Alert
    recipients: tuple[str, ...]
    message_id: str


def still_visible(technician: Technician | None, alert: Alert) -> bool:
    """Whether the technician may still see this alert, by presence's own current record."""
    return technician is not None and technician.can_see_company(alert.account_id, alert.company_id)


def alert_frame(alert: Alert, *, sound: bool) -> dict[str, object]:
    return {
        "type": "alert",
        "request_id": alert.request_id,
        "company_id": alert.company_id,
        "customer_name": alert.customer_name,
        "description": alert.description,
        "portal_type": alert.portal_type,
        "expires_at": alert.expires_at.isoformat() if alert.expires_at else None,
        "sound": sound,
        "kind": alert.kind.value,
    }


def withdrawn_frame(request_id: str, reason: str) -> dict[str, object]:
    return {"type": "alert_withdrawn", "request_id": request_id, "reason": reason}


def email_subject(alert: Alert) -> str:
    what = "assigned to you" if alert.kind is AlertKind.ASSIGNED else "waiting for a technician"
    return f"Support request from {alert.customer_name} {what}"


def email_body(alert: Alert) -> str:
    lines = [
        f"Customer: {alert.customer_name}",
        f"Company: {alert.company_id}",
        f"Request: {alert.request_id}",
        "",
        alert.description or "(no description)",
        "",
    ]
    if alert.expires_at is not None:
        lines.append(f"Accept it in your help center before {alert.expires_at.isoformat()}.")
    else:
        lines.append("Open your help center to start the chat.")
    return "\n".join(lines) + "\n"
