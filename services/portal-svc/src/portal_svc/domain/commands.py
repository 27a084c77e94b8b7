"""What callers ask portal-svc to do: validated input models (bounded, described)."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from contracts.vocabulary import ConnectionMode, PortalStatus, PortalType
from portal_svc.domain.hours import BusinessHours
from portal_svc.domain.text import Description, Name, multi_line, single_line

EMAIL_PATTERN = r"^[^@\s<>\"]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"

Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN),
    AfterValidator(single_line),
    AfterValidator(str.lower),
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
LoginPassword = Annotated[str, StringConstraints(min_length=1, max_length=128)]
RefId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Subdomain = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=63)]
Origin = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Strict(BaseModel):
    # A misspelt field is an error the caller should hear about, not silently dropped input.
    model_config = ConfigDict(extra="forbid")


class Login(Strict):
    email: Email = Field(description="E-mail the admin or technician signs in with.")
    password: LoginPassword = Field(description="Their password.")


class Refresh(Strict):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="The refresh token of the last sign-in or refresh."
    )


class CreateAccount(Strict):
    account_name: Name = Field(description="Name of the organisation using Assistline.")
    admin_name: Name = Field(description="Name of its first admin.")
    admin_email: Email = Field(description="E-mail of its first admin (unique across Assistline).")
    admin_password: Password = Field(description="Password of its first admin, 8 to 128 characters.")


class CreateCompany(Strict):
    name: Name = Field(description="Name of the customer company.")


class RenameCompany(Strict):
    name: Name = Field(description="New name of the customer company (unique within the account).")


class CreateTechnician(Strict):
    name: Name = Field(description="Display name, shown to customers in SmartMatch lists.")
    email: Email = Field(description="Sign-in e-mail (unique across Assistline).")
    password: Password = Field(description="Initial password, 8 to 128 characters.")
    company_ids: list[RefId] = Field(default_factory=list, max_length=200, description="Companies they can access.")
    capacity: int = Field(default=3, ge=1, le=50, description="Maximum concurrent chats.")


class UpdateTechnician(Strict):
    name: Name | None = Field(default=None, description="New display name.")
    password: Password | None = Field(default=None, description="New password.")
    company_ids: list[RefId] | None = Field(default=None, max_length=200, description="Replaces company access.")
    capacity: int | None = Field(default=None, ge=1, le=50, description="Maximum concurrent chats.")


class CreatePortal(Strict):
    company_id: RefId = Field(description="Company the portal serves (at most one portal per company).")
    subdomain: Subdomain = Field(description="Unique DNS label, e.g. `globex`.")
    status: PortalStatus = Field(default=PortalStatus.ACTIVE, description="Active portals accept requests.")
    mode: ConnectionMode = Field(description="web, phone or queue.")
    portal_type: PortalType = Field(
        description="web: smart_box/smart_button/smart_match; phone: smart_pin; queue: smart_box."
    )
    allowed_origins: list[Origin] = Field(
        default_factory=list,
        max_length=20,
        description="Sites allowed to embed the portal, e.g. https://www.globex.com.",
    )
    hours: BusinessHours | None = Field(default=None, description="Business hours; none means always open.")
    max_wait_seconds: int = Field(
        default=180,
        ge=30,
        le=3600,
        description="After this long waiting, the customer is offered to leave a message instead.",
    )


class UpdatePortal(Strict):
    subdomain: Subdomain | None = Field(default=None, description="New unique DNS label.")
    status: PortalStatus | None = Field(default=None, description="active or inactive.")
    mode: ConnectionMode | None = Field(default=None, description="New connection mode.")
    portal_type: PortalType | None = Field(default=None, description="New portal type (must suit the mode).")
    allowed_origins: list[Origin] | None = Field(default=None, max_length=20, description="Replaces the origins.")
    hours: BusinessHours | None = Field(
        default=None, description="Replaces the business hours; an explicit null removes them (always open)."
    )
    max_wait_seconds: int | None = Field(
        default=None, ge=30, le=3600, description="After this long waiting, offer the message form."
    )


class SubmitRequest(Strict):
    customer_name: Name = Field(description="Your name.")
    customer_email: Email | None = Field(default=None, description="Optional e-mail to reach you.")
    description: Description = Field(
        default="", description="The problem, in your words (required for SmartBox portals)."
    )
    chosen_technician_id: RefId | None = Field(default=None, description="SmartMatch: the technician you chose.")
    connection_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=9)] | None = Field(
        default=None, description="SmartPin: the 9-digit code your technician read out."
    )


MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class LeaveMessage(Strict):
    customer_name: Name = Field(description="Your name.")
    customer_email: Email = Field(description="Where the answer is sent.")
    text: Annotated[MessageText, AfterValidator(multi_line)] = Field(
        description="Your message, up to 4,000 characters."
    )
    reason: Literal["closed", "no_technician", "long_wait", "customer_choice"] = Field(
        default="customer_choice", description="Why the customer left a message rather than waiting."
    )
    request_id: RefId | None = Field(
        default=None, description="The request the customer gave up on (it is cancelled first by the portal page)."
    )


class AnswerMessage(Strict):
    text: Annotated[MessageText, AfterValidator(multi_line)] = Field(
        description="The answer, sent by e-mail to the customer and kept with the message."
    )
