"""The plain-text transcript a participant downloads.

Every field written into it (names, outcome, notes, message text, ids) is neutralised, so
nothing a customer or technician typed can start a line of its own and pass for a message
the other side never sent: line breaks, other control characters, the Unicode line and
paragraph separators and the bidirectional overrides become visible placeholders.
"""

import unicodedata
from collections.abc import Iterable

from chat_svc.domain.model import Author, ChatSession, Message

NEWLINE_MARK = " ⏎ "
"""What a line break inside a field becomes: visibly a break, never a new line."""
CONTROL_MARK = "\N{REPLACEMENT CHARACTER}"

_LINE_BREAKS = ("\r\n", "\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
# Bidirectional embeddings, overrides and isolates reorder what a reader sees.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def neutral(value: object) -> str:
    """`value` as text that stays on its line and reads as what it is."""
    text = str(value)
    for line_break in _LINE_BREAKS:
        text = text.replace(line_break, NEWLINE_MARK)
    return "".join(
        " " if char == "\t" else CONTROL_MARK if char in _BIDI or _is_control(char) else char for char in text
    )


def _is_control(char: str) -> bool:
    # Cc: C0/C1 controls; Cs: lone surrogates. Format characters other than the bidi controls
    # (e.g. zero-width joiners in emoji) are harmless and kept.
    return unicodedata.category(char) in {"Cc", "Cs"}


def _speaker(message: Message) -> str:
    if message.author is Author.SYSTEM:
        return "--"
    label = "Customer" if message.author is Author.CUSTOMER else "Technician"
    return f"{label} ({neutral(message.author_name)})" if message.author_name else label


def render_transcript(session: ChatSession, messages: Iterable[Message]) -> str:
    lines = [
        f"Chat session {neutral(session.session_id)} (request {neutral(session.request_id)})",
        f"Customer: {neutral(session.customer_name)}",
        f"Opened: {session.opened_at.isoformat()}",
    ]
    if session.ended_at:
        lines.append(f"Ended: {session.ended_at.isoformat()} by {neutral(session.ended_by or '')}")
        lines.append(f"Outcome: {neutral(session.outcome or '')}")
    lines.append("")
    for message in messages:
        stamp = message.sent_at.strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"[{stamp}] {_speaker(message)}: {neutral(message.text)}")
    return "\n".join(lines) + "\n"
