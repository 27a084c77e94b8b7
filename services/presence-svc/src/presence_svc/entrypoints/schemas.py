"""Request and response bodies of the HTTP API."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from presence_svc.domain.availability import ChosenStatus
from presence_svc.domain.preferences import MAX_CONTACTS, EmailAddress


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ChosenStatus = Field(description="`available` (Available for chat requests) or `unavailable`.")


class PresenceOut(BaseModel):
    technician_id: str = Field(description="The technician.")
    display_name: str = Field(description="Name shown to customers.")
    status: ChosenStatus = Field(description="The status the technician chose (kept across restarts).")
    available: bool = Field(
        description="Available for routing now: chose Available, has an active portal and is "
        "connected (or reconnecting within the grace period)."
    )
    company_ids: list[str] = Field(description="Companies routing currently counts them for.")
    status_menu: bool = Field(description="False until a company they can access has a portal.")
    connections: int = Field(ge=0, description="Open help-center connections (tabs, devices).")
    reason: str | None = Field(
        default=None,
        description="Why they are unavailable: `chosen` (their choice), `disconnected`, "
        "`missed_requests` (must choose Available again) or `access_revoked` (no active portal "
        "or no access); null when available.",
    )
    since: datetime | None = Field(default=None, description="When the current state (or reason) began.")
    chats_open: int = Field(default=0, ge=0, description="Requests assigned to them whose chat has not ended.")


class RosterOut(BaseModel):
    technicians: list[PresenceOut] = Field(description="Every technician of the account, by name.")


class HistoryEntryOut(BaseModel):
    at: datetime = Field(description="When the state changed.")
    state: str = Field(description="`available`, or the reason they became unavailable.")
    actor: str = Field(description="Who caused it: `technician`, `admin` or `system`.")
    actor_id: str | None = Field(default=None, description="The technician, when they did it themselves.")


class HistoryPageOut(BaseModel):
    entries: list[HistoryEntryOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end.")


class PreferencesIn(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    desktop_alerts: bool | None = Field(default=None, description="In-app desktop alerts on/off.")
    sound: bool | None = Field(default=None, description="Notification sounds on/off.")
    email_alerts: bool | None = Field(default=None, description="E-mail alerts on/off.")
    contacts: list[EmailAddress] | None = Field(
        default=None, max_length=MAX_CONTACTS, description="Replaces the whole contact list."
    )

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude_none=True)
        if "contacts" in changes:
            changes["contacts"] = list(dict.fromkeys(changes["contacts"]))
        return changes


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: EmailAddress


class SnapshotOut(BaseModel):
    technicians: list[dict[str, Any]] = Field(
        description="The TechnicianAvailable payload of every technician available right now."
    )
