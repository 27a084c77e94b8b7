"""The JSON frames the server sends on a chat socket."""

from typing import Any

from chat_svc.domain.model import Author, ChatSession, Message


def message_frame(message: Message) -> dict[str, Any]:
    # `text` is plain text: clients must insert it with textContent, never as HTML.
    return {
        "type": "message",
        "id": message.id,
        "seq": message.seq,
        "author": message.author.value,
        "author_name": message.author_name,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
        "client_id": message.client_id,
    }


def session_frame(session: ChatSession, you: Author | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "session",
        "session_id": session.session_id,
        "request_id": session.request_id,
        "state": session.state.value,
        "technician_id": session.technician_id,
        "technician_name": session.technician_name,
        # Colleagues invited into the chat, for the pages to say who is there.
        "guests": [{"technician_id": key, "name": name} for key, name in session.guests.items()],
        "customer_name": session.customer_name,
        "last_seq": session.last_seq,
        "ended_by": session.ended_by.value if session.ended_by else None,
        "outcome": session.outcome.value if session.outcome else None,
    }
    if you is not None:
        frame["you"] = you.value
    return frame


def typing_frame(author: Author) -> dict[str, Any]:
    return {"type": "typing", "author": author.value}


def error_frame(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message}
