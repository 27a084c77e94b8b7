"""Validation of what participants send, and how a session may end."""

from chat_svc.domain.errors import EmptyMessage, MessageTooLong, OutcomeRequired
from chat_svc.domain.model import Author
from contracts.vocabulary import EndedBy, SessionOutcome


def clean_text(text: str, max_chars: int) -> str:
    """Plain text as typed; only surrounding blank space is dropped.

    Nothing is escaped here: the text is data, and every client must put it in the page as
    text (e.g. `textContent`), never as HTML.
    """
    stripped = text.strip()
    if not stripped:
        raise EmptyMessage("a message needs some text")
    if len(stripped) > max_chars:
        raise MessageTooLong(f"a message is at most {max_chars} characters ({len(stripped)} sent)")
    return stripped


def ending(author: Author, outcome: SessionOutcome | None) -> tuple[EndedBy, SessionOutcome]:
    """Who ended the session and with which outcome, from the side that asked."""
    if author is Author.TECHNICIAN:
        if outcome is None:
            raise OutcomeRequired("the technician records an outcome: resolved, unresolved or unknown")
        return EndedBy.TECHNICIAN, outcome
    # Only the technician can judge whether the problem was solved.
    return EndedBy.CUSTOMER, SessionOutcome.UNKNOWN


def end_notice(ended_by: EndedBy) -> str:
    return {
        EndedBy.TECHNICIAN: "The technician ended the chat.",
        EndedBy.CUSTOMER: "The customer ended the chat.",
        EndedBy.ABANDONED: "The chat ended: the customer left.",
    }[ended_by]


BACK_TO_QUEUE_NOTICE = "You are being transferred to another technician. Please stay in this chat."


def transfer_notice(from_name: str, to_name: str) -> str:
    """The transcript line of a transfer between colleagues (names may be unknown)."""
    return f"{from_name or 'The technician'} transferred the chat to {to_name or 'a colleague'}."


def joined_notice(name: str) -> str:
    """The line everybody in the chat reads when an invited colleague joins it."""
    return f"{name or 'A colleague'} joined the chat."


def left_notice(name: str) -> str:
    return f"{name or 'A colleague'} left the chat."
