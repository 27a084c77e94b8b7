"""Notification preferences of one technician."""

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, Field

from presence_svc.domain.errors import DuplicateContact, TooManyContacts, UnknownContact

MAX_CONTACTS = 5


def normalise_address(raw: str) -> str:
    """A syntactically valid e-mail address, normalised; ValueError says what is wrong."""
    try:
        # No DNS look-up: machines may be offline, and the SMTP server is the judge of delivery.
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not a valid e-mail address: {error}") from error


EmailAddress = Annotated[
    str,
    Field(min_length=3, max_length=254, description="An e-mail address.", examples=["ana@example.com"]),
    AfterValidator(normalise_address),
]


class Preferences(BaseModel):
    desktop_alerts: bool = Field(default=True, description="Show in-app desktop alerts in the help center.")
    sound: bool = Field(default=True, description="Play a notification sound with alerts.")
    email_alerts: bool = Field(default=False, description="Also send each alert by e-mail to the contacts below.")
    contacts: list[EmailAddress] = Field(
        default_factory=list, max_length=MAX_CONTACTS, description="E-mail contacts for alerts."
    )

    @property
    def wants_email(self) -> bool:
        return self.email_alerts and bool(self.contacts)

    def with_contact(self, address: str) -> "Preferences":
        if address in self.contacts:
            raise DuplicateContact(address)
        if len(self.contacts) >= MAX_CONTACTS:
            raise TooManyContacts(MAX_CONTACTS)
        return self.model_copy(update={"contacts": [*self.contacts, address]})

    def without_contact(self, address: str) -> "Preferences":
        if address not in self.contacts:
            raise UnknownContact(address)
        return self.model_copy(update={"contacts": [c for c in self.contacts if c != address]})
