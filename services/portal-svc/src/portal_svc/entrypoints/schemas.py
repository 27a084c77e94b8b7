"""Response bodies of the HTTP API (request bodies are the commands in `domain.commands`)."""

from datetime import datetime

from pydantic import BaseModel, Field


class TokenOut(BaseModel):
    token: str = Field(description="Short-lived access token (JWT) to send as `Authorization: Bearer ...`.")
    refresh_token: str = Field(
        description="Exchange it at `POST /api/portal/auth/refresh` for a new pair before `expires_in` runs out."
    )
    role: str = Field(description="admin or technician.")
    user_id: str = Field(description="Id of the signed-in person.")
    account_id: str = Field(description="Their account.")
    name: str = Field(description="Their display name.")
    company_ids: list[str] = Field(description="Companies a technician can access (empty for admins).")
    expires_in: int = Field(description="Seconds until the access token expires.")


class AccountOut(BaseModel):
    account_id: str = Field(description="The new account.")
    admin_id: str = Field(description="Its first admin.")
    name: str = Field(description="Account name.")


class CompanyOut(BaseModel):
    company_id: str = Field(description="Company id.")
    name: str = Field(description="Company name.")


class TechnicianOut(BaseModel):
    technician_id: str = Field(description="Technician id.")
    name: str = Field(description="Display name.")
    email: str = Field(description="Sign-in e-mail.")
    company_ids: list[str] = Field(description="Companies they can access.")
    capacity: int = Field(description="Maximum concurrent chats.")
    enabled: bool = Field(description="False once removed.")
    revision: int = Field(description="Increases with each change.")


class PortalOut(BaseModel):
    portal_id: str = Field(description="Portal id.")
    company_id: str = Field(description="Company it serves.")
    subdomain: str = Field(description="Unique subdomain.")
    status: str = Field(description="active or inactive.")
    mode: str = Field(description="web, phone or queue.")
    portal_type: str = Field(description="smart_box, smart_button, smart_match or smart_pin.")
    allowed_origins: list[str] = Field(description="Sites allowed to embed it.")
    revision: int = Field(description="Increases with each change.")
    url: str = Field(description="Stand-alone URL.")


class EmbedOut(BaseModel):
    portal_id: str = Field(description="Portal id.")
    standalone_url: str = Field(description="URL of the portal page.")
    popup_snippet: str = Field(description="HTML link opening the portal in a pop-up window.")
    embed_snippet: str = Field(description="HTML container + script tag embedding the chat window.")
    allowed_origins: list[str] = Field(description="Only these sites may embed it (CSP frame-ancestors).")


class TechnicianChoice(BaseModel):
    technician_id: str = Field(description="Pass as `chosen_technician_id`.")
    display_name: str = Field(description="Name to show.")


class PublicPortalOut(BaseModel):
    subdomain: str = Field(description="Portal subdomain.")
    company_name: str = Field(description="Company served.")
    view: str = Field(description="unavailable, no_technician, form or code_entry.")
    message: str = Field(description="Text to show the customer.")
    mode: str = Field(description="Connection mode.")
    portal_type: str = Field(description="Which form to show.")
    technicians: list[TechnicianChoice] = Field(description="SmartMatch: available technicians to pick from.")


class SubmittedOut(BaseModel):
    request_id: str = Field(description="Your request.")
    token: str = Field(description="Token valid for this request only (status, cancel, chat).")
    status_url: str = Field(description="Where to follow the request's status.")
    status: str = Field(description="Initial status: submitted.")


class TechnicianRef(BaseModel):
    technician_id: str = Field(description="Technician id.")
    display_name: str = Field(description="Name shown to the customer.")


class RequestStatusOut(BaseModel):
    request_id: str = Field(description="The request.")
    status: str = Field(description="submitted, queued, offered, assigned, chat_open, ended, rejected or cancelled.")
    message: str = Field(description="Text to show the customer.")
    position: int | None = Field(description="Queued: 1 = next to be served.")
    technician: TechnicianRef | None = Field(description="Who took the request, once assigned.")
    session_id: str | None = Field(description="Chat session, once open.")
    chat_ws_path: str | None = Field(description="chat-svc WebSocket path to join while the chat is open.")
    reason: str | None = Field(description="Rejected: machine-readable reason, e.g. invalid_code.")
    submitted_at: datetime = Field(description="When the request was received.")
    updated_at: datetime = Field(description="When the status last changed.")
    cancellable: bool = Field(description="Whether the customer can still cancel.")
