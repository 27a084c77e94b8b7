"""The plain-text transcript a participant downloads."""

from collections.abc import Iterable

from chat_svc.domain.model import Author, ChatSession, Message


def _speaker(message: Message) -> str:
    if message.author is Author.SYSTEM:
        return "--"
    label = "Customer" if message.author is Author.CUSTOMER else "Technician"
    return f"{label} ({message.author_name})" if message.author_name else label


def render_transcript(session: ChatSession, messages: Iterable[Message]) -> str:
    lines = [
        f"Chat session {session.session_id} (request {session.request_id})",
        f"Customer: {session.customer_name}",
        f"Opened: {session.opened_at.isoformat()}",
    ]
    if session.ended_at:
        lines.append(f"Ended: {session.ended_at.isoformat()} by {session.ended_by}")
        lines.append(f"Outcome: {session.outcome}")
    lines.append("")
    for message in messages:
        stamp = message.sent_at.strftime("%Y-%m-%d %H:%M:%S")
        # One line per message: embedded line breaks are indented so no one can forge a line.
        text = message.text.replace("\r\n", "\n").replace("\n", "\n    ")
        lines.append(f"[{stamp}] {_speaker(message)}: {text}")
    return "\n".join(lines) + "\n"
