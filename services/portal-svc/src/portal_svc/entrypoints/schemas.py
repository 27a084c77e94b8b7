"""Response bodies of the HTTP API (request bodies are the commands in `domain.commands`)."""

from datetime import datetime

from pydantic import BaseModel, Field

from portal_svc.domain.hours import BusinessHours


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


class CompanyRow(CompanyOut):
    portal_subdomain: str | None = Field(description="Its portal's subdomain; null when it has none.")
    portal_status: str | None = Field(description="Its portal's status (active or inactive); null without one.")
    technician_count: int = Field(description="How many current technicians can access it.")


class PageOut(BaseModel):
    total: int = Field(description="How many items match, in all pages.")
    page: int = Field(description="This page, from 1.")
    per_page: int = Field(description="Items per page.")
    pages: int = Field(description="How many pages there are (at least 1).")


class CompanyPage(PageOut):
    items: list[CompanyRow] = Field(description="The companies of this page, by name.")


class DeletedCompanyOut(CompanyOut):
    portal_deactivated: str | None = Field(description="Subdomain of the portal switched off, if it had one.")
    technicians_updated: int = Field(description="How many technicians lost access to it.")


class EarlierRequest(BaseModel):
    request_id: str = Field(description="The earlier request.")
    submitted_at: datetime = Field(description="When it was received.")
    description: str = Field(description="What the customer wrote then (shortened).")
    status: str = Field(description="Its status now (archived once it left the live records).")


class CustomerPanelOut(BaseModel):
    request_id: str = Field(description="The request the panel is about.")
    customer_name: str = Field(description="Name the customer gave.")
    customer_email: str | None = Field(description="E-mail the customer gave, if any.")
    description: str = Field(description="What they wrote.")
    submitted_at: datetime = Field(description="When the request was received.")
    portal_subdomain: str | None = Field(description="Portal it came through.")
    company_name: str | None = Field(description="Company of that portal.")
    earlier: list[EarlierRequest] = Field(
        description="Earlier requests from the same e-mail to companies you can access, newest first (at most 10)."
    )


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
    hours: BusinessHours | None = Field(description="Business hours; null means always open.")
    max_wait_seconds: int = Field(description="Waiting longer than this offers the message form.")
    revision: int = Field(description="Increases with each change.")
    url: str = Field(description="Stand-alone URL.")


class EmbedOut(BaseModel):
    portal_id: str = Field(description="Portal id.")
    standalone_url: str = Field(description="URL of the portal page.")
    popup_snippet: str = Field(description="HTML link opening the portal in a pop-up window.")
    embed_snippet: str = Field(
        description="HTML container + script tag embedding the chat window (its height follows the content)."
    )
    widget_snippet: str = Field(
        description="One script tag adding a floating chat launcher to every page of the site (JS API: "
        "window.Assistline.open/close/toggle/prefill, `assistline:ready` event)."
    )
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
    accepts_messages: bool = Field(description="Whether the customer can leave a message (any active portal).")
    max_wait_seconds: int = Field(description="After waiting this long, offer the message form.")
    next_open: datetime | None = Field(description="Closed: when the portal opens again.")


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
    waiting_since: datetime = Field(description="When the customer started waiting (offers go out at once).")
    estimated_wait_seconds: int | None = Field(
        description="Queued: estimated wait from the company's recent handling times; null without history."
    )
    nobody_available: bool = Field(
        description="Web mode: no technician is available any more to take the offer (offer the message form)."
    )


class MessageLeftOut(BaseModel):
    message_id: str = Field(description="The offline message.")
    status: str = Field(description="open until answered.")
    left_at: datetime = Field(description="When it was received.")


class OfflineMessageOut(BaseModel):
    message_id: str = Field(description="The offline message.")
    company_id: str = Field(description="Company it is for.")
    company_name: str = Field(description="That company's name.")
    subdomain: str = Field(description="Portal it was left at.")
    customer_name: str = Field(description="Who left it.")
    customer_email: str = Field(description="Where the answer goes.")
    text: str = Field(description="The message.")
    reason: str = Field(description="closed, no_technician, long_wait or customer_choice.")
    status: str = Field(description="open or answered.")
    left_at: datetime = Field(description="When it was left.")
    reply: str | None = Field(description="The answer, once given (kept with the message).")
    answered_by: str | None = Field(description="Who answered.")
    answered_at: datetime | None = Field(description="When.")
    reply_sent: bool = Field(description="Whether the answer's e-mail went out.")


class MessagesOut(BaseModel):
    open: list[OfflineMessageOut] = Field(description="Waiting for an answer, oldest first.")
    answered: list[OfflineMessageOut] = Field(description="Recently answered, newest first.")


class TechnicianPage(PageOut):
    items: list[TechnicianOut] = Field(description="The technicians of this page, by name.")
