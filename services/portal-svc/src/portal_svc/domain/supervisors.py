"""What an admin gives to create a supervisor: a read-only viewer of the account's dashboard."""

from pydantic import Field

from portal_svc.domain.commands import Email, Password, Strict
from portal_svc.domain.text import Name


class CreateSupervisor(Strict):
    name: Name = Field(description="Display name.")
    email: Email = Field(description="Sign-in e-mail (unique across Assistline).")
    password: Password = Field(description="Initial password, 8 to 128 characters.")
