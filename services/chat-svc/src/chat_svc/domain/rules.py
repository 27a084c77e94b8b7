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
