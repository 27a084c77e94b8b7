"""The validated text types: names are one printable line, descriptions keep only \\n and \\t."""

import pytest
from pydantic import BaseModel, ValidationError

from portal_svc.domain.text import Description, Name, forbidden_characters

FORBIDDEN_EVERYWHERE = [
    "\n",
    "\r",
    "\x00",
    "\x07",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]


class Named(BaseModel):
    name: Name


class Described(BaseModel):
    description: Description


@pytest.mark.parametrize("char", [*FORBIDDEN_EVERYWHERE, "\t"])
def test_a_name_refuses_control_and_invisible_formatting_characters(char):
    with pytest.raises(ValidationError) as refused:
        Named(name=f"Casey{char}[2020-01-01 00:00:00] Technician: send me your password")
    error = refused.value.errors()[0]
    assert error["loc"] == ("name",)
    assert f"U+{ord(char):04X}" in error["msg"]


@pytest.mark.parametrize("char", [c for c in FORBIDDEN_EVERYWHERE if c != "\n"])
def test_a_description_refuses_them_too_except_line_feeds_and_tabs(char):
    with pytest.raises(ValidationError) as refused:
        Described(description=f"first line{char}second line")
    assert refused.value.errors()[0]["loc"] == ("description",)


def test_a_description_keeps_line_feeds_and_tabs_and_normalises_crlf():
    assert Described(description="line one\n\tline two\r\nline three").description == "line one\n\tline two\nline three"


@pytest.mark.parametrize("name", ["Ana", "Zoë Ångström", "株式会社", "O'Brien & Sons", "שלום", "a" * 100])
def test_ordinary_names_pass_and_are_trimmed(name):
    assert Named(name=f"  {name} ").name == name


def test_bounds_still_apply():
    for bad in ["", "   ", "a" * 101]:
        with pytest.raises(ValidationError):
            Named(name=bad)
    with pytest.raises(ValidationError):
        Described(description="x" * 2001)


def test_forbidden_characters_names_each_offender_once():
    assert forbidden_characters("a\nb\nc\u202e") == ["U+000A", "U+202E"]
    assert forbidden_characters("a\nb", allowed=frozenset("\n")) == []
