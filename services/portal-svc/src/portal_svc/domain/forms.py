"""Customer forms (request, message): every field error at once, in one consistent voice.

The schema (pydantic) and the portal's rules (a SmartBox needs a description, a SmartPin a
code) used to answer one after the other, each in its own wording ("Field required", then
"please describe your problem (description is required)"). A customer fixes a form in one
go when it lists every problem, each said the way a person would say it.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from portal_svc.domain.errors import Invalid

# (field, pydantic error type or "*") -> what the customer reads.
_WORDING: dict[tuple[str, str], str] = {
    ("customer_name", "*"): "Please enter your name.",
    ("customer_name", "string_too_long"): "Please keep your name under 100 characters.",
    ("customer_name", "value_error"): "Please write your name on one line, without special characters.",
    ("customer_email", "*"): "Please enter a valid e-mail address, like name@example.com.",
    ("description", "*"): "Please describe your problem.",
    ("description", "string_too_long"): "Please keep the description under 2,000 characters.",
    ("description", "value_error"): "Please remove special characters from the description.",
    ("text", "*"): "Please write your message.",
    ("text", "string_too_long"): "Please keep your message under 4,000 characters.",
    ("text", "value_error"): "Please remove special characters from your message.",
    ("connection_code", "*"): "Please enter the 9-digit code your technician read out.",
    ("chosen_technician_id", "*"): "Please choose a technician.",
}
REQUIRED = "Please fill in this field."


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    type: str


class InvalidFields(Invalid):
    """Several field errors at once (the HTTP layer answers 422 `validation_failed`, `fields`)."""

    code = "validation_failed"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors), code=self.code)


def wording(field: str, kind: str) -> str:
    if field == "" or kind == "extra_forbidden":
        return "This field is not part of the form."
    return _WORDING.get((field, kind)) or _WORDING.get((field, "*")) or REQUIRED


def field_errors(error: ValidationError) -> list[FieldError]:
    found: list[FieldError] = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        if not any(e.field == field for e in found):
            found.append(FieldError(field, wording(field, item["type"]), item["type"]))
    return found


def blank(raw: dict[str, Any], field: str) -> bool:
    value = raw.get(field)
    return value is None or (isinstance(value, str) and not value.strip())


_CODE = re.compile(r"^\d{9}$")


def parse_form[M: BaseModel](
    model: type[M], raw: object, *, required: tuple[str, ...] = (), code_field: str | None = None
) -> M:
    """`model` from `raw`, or InvalidFields naming every problem (schema and `required`)."""
    if not isinstance(raw, dict):
        raise InvalidFields([FieldError("", "The form could not be read; please try again.", "model_type")])
    errors: list[FieldError] = []
    parsed: M | None = None
    try:
        parsed = model.model_validate(raw)
    except ValidationError as error:
        errors = field_errors(error)
    named = {e.field for e in errors}
    for field in required:
        if field not in named and blank(raw, field):
            errors.append(FieldError(field, wording(field, "missing"), "missing"))
            named.add(field)
    if code_field and code_field not in named:
        code = str(raw.get(code_field) or "").replace(" ", "")
        if not _CODE.fullmatch(code):
            errors.append(FieldError(code_field, wording(code_field, "pattern"), "pattern"))
    if errors or parsed is None:
        raise InvalidFields(errors)
    return parsed
