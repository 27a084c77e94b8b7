"""Text people type that other people later read: names, descriptions.

A name or a description ends up in HTML pages, e-mails, logs and transcripts. A line break,
a control character or a bidi override in it lets its author forge a line of a transcript
or disguise what a reader sees, so those characters are refused at the edge with a field
error, not stored and escaped in each place that writes them.
"""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

# Unicode line and paragraph separators, bidi embeddings/overrides and isolates: invisible,
# yet they break lines or reorder what a reader sees.
_INVISIBLE_FORMATTING = frozenset(
    {"\u2028", "\u2029", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
)
# What multi-line text (a description) may keep.
MULTI_LINE_ALLOWED = frozenset({"\n", "\t"})


def forbidden_characters(text: str, *, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The characters of `text` a reader must never receive, as `U+XXXX` (each once, in order)."""
    found: list[str] = []
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) == "Cc" or char in _INVISIBLE_FORMATTING:
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def single_line(text: str) -> str:
    """A name: one line of printable text (pydantic turns the ValueError into a field error)."""
    if found := forbidden_characters(text):
        raise ValueError(f"must be a single line without control characters (found {', '.join(found)})")
    return text


def multi_line(text: str) -> str:
    """A description: line feeds and tabs are fine, nothing else invisible.

    Windows line ends (CRLF, what a browser's form encoding sends) become line feeds first; a
    lone carriage return is refused like any other control character.
    """
    text = text.replace("\r\n", "\n")
    if found := forbidden_characters(text, allowed=MULTI_LINE_ALLOWED):
        raise ValueError(f"may contain line breaks and tabs but no other control characters (found {', '.join(found)})")
    return text


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(single_line)
]
"""The name of a person, a company or an account."""

MAX_DESCRIPTION = 2000
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_DESCRIPTION), AfterValidator(multi_line)
]
"""Free text in the customer's words (may be empty; a portal type may require it)."""
