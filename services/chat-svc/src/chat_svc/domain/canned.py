"""Canned replies: account-wide ones (managed by admins) and each technician's own.

A reply has a title, a `/shortcut` unique within its scope (the account's, or the
technician's), and a text that may name variables — `{customer_name}`, `{technician_name}`,
`{company_name}` — filled in when it is inserted into a chat. Any other `{...}` is refused
when saved, so a typo never reaches a customer as a raw placeholder.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from chat_svc.domain.errors import InvalidCannedReply

SHORTCUT = re.compile(r"^/[a-z0-9][a-z0-9_-]{0,31}$")
VARIABLES = ("customer_name", "technician_name", "company_name")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_TITLE = 80
MAX_TEXT = 2000
MAX_PER_SCOPE = 200
"""Replies per scope: they live in one document per scope, read by `_id`."""


class Scope(StrEnum):
    ACCOUNT = "account"
    """Everyone of the account uses them; admins manage them."""
    PERSONAL = "personal"
    """One technician's own."""


@dataclass(frozen=True)
class CannedReply:
    reply_id: str
    scope: Scope
    title: str
    shortcut: str
    text: str

    def as_dict(self) -> dict[str, object]:
        return {
            "reply_id": self.reply_id,
            "scope": self.scope.value,
            "title": self.title,
            "shortcut": self.shortcut,
            "text": self.text,
        }


def normalise_shortcut(raw: str) -> str:
    shortcut = raw.strip().lower()
    if not shortcut.startswith("/"):
        shortcut = "/" + shortcut
    if not SHORTCUT.match(shortcut):
        raise InvalidCannedReply(
            "a shortcut is / followed by 1 to 32 lower-case letters, digits, - or _ (for example /thanks)",
            field="shortcut",
        )
    return shortcut


def check_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidCannedReply("the reply text is empty", field="text")
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in VARIABLES})
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        known = ", ".join("{" + name + "}" for name in VARIABLES)
        raise InvalidCannedReply(f"unknown variable {names}; the variables are {known}", field="text")
    return text


def render(text: str, values: Mapping[str, str]) -> str:
    """The text with its variables filled (a variable without a value becomes empty)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), "") if m.group(1) in VARIABLES else m.group(0), text)
