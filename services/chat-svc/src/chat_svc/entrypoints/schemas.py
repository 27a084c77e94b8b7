"""Bodies of the HTTP API and the frames clients send on a chat socket."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from chat_svc.domain.model import Author, ChatSession, Message, SessionState
from chat_svc.domain.rating import MAX_COMMENT, MAX_SCORE, MIN_SCORE, Rating
from contracts.vocabulary import EndedBy, SessionOutcome

NOTES_MAX = 2000


class EndRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: SessionOutcome = Field(description="Resolved, unresolved or unknown.")
    notes: str = Field(default="", max_length=NOTES_MAX, description="The technician's notes.")


class MessageOut(BaseModel):
    id: str = Field(description="Message id; resume after it with `after`.")
    seq: int = Field(description="Position in the session, from 1, increasing.")
    author: Author = Field(description="customer, technician or system.")
    author_name: str = Field(description="Name of the author, when known.")
    text: str = Field(description="Plain text. Clients must render it as text (textContent), never as HTML.")
    sent_at: datetime = Field(description="When the server stored it (UTC).")

    @classmethod
    def of(cls, message: Message) -> "MessageOut":
        return cls(
            id=message.id,
            seq=message.seq,
            author=message.author,
            author_name=message.author_name,
            text=message.text,
            sent_at=message.sent_at,
        )


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=MIN_SCORE, le=MAX_SCORE, strict=True, description="1 (bad) to 5 (excellent).", examples=[5])
    comment: str = Field(default="", max_length=MAX_COMMENT, description="Optional, plain text.", examples=["Quick!"])


class RatingOut(BaseModel):
    score: int = Field(description="1 (bad) to 5 (excellent).")
    comment: str = Field(description="The customer's comment (plain text; may be empty).")
    rated_at: datetime = Field(description="When it was given (UTC).")

    @classmethod
    def of(cls, rating: Rating) -> "RatingOut":
        return cls(score=rating.score, comment=rating.comment, rated_at=rating.rated_at)


class SessionOut(BaseModel):
    session_id: str
    request_id: str
    account_id: str
    company_id: str
    company_name: str = Field(
        default="", description="The company's current name (for `{company_name}` in canned replies); empty if unknown."
    )
    technician_id: str = Field(description="The technician the session is (or was last) assigned to.")
    customer_name: str
    description: str = Field(description="The problem, as the customer described it.")
    state: SessionState = Field(description="active or completed.")
    opened_at: datetime
    ended_at: datetime | None = None
    ended_by: EndedBy | None = None
    outcome: SessionOutcome | None = None
    notes: str | None = Field(default=None, description="Technician's notes; not shown to customers.")
    rating: RatingOut | None = Field(default=None, description="The customer's rating, once given.")

    @classmethod
    def of(
        cls, session: ChatSession, *, with_notes: bool, rating: Rating | None = None, company_name: str = ""
    ) -> "SessionOut":
        return cls(
            session_id=session.session_id,
            request_id=session.request_id,
            account_id=session.account_id,
            company_id=session.company_id,
            company_name=company_name,
            technician_id=session.technician_id,
            customer_name=session.customer_name,
            description=session.description,
            state=session.state,
            opened_at=session.opened_at,
            ended_at=session.ended_at,
            ended_by=session.ended_by,
            outcome=session.outcome,
            notes=session.notes if with_notes else None,
            rating=RatingOut.of(rating) if rating else None,
        )


class SessionList(BaseModel):
    sessions: list[SessionOut] = Field(description="Newest first.")


class SessionDetail(BaseModel):
    session: SessionOut
    messages: list[MessageOut] = Field(description="In order of `seq`.")


# Frames a client sends on a chat socket.


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MessageFrame(_Frame):
    type: Literal["message"]
    text: str = Field(description="Plain text; its length is checked against the configured limit.")
    client_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Chosen by the client; a retry with the same id is not stored twice.",
    )


class TypingFrame(_Frame):
    type: Literal["typing"]


class ResumeFrame(_Frame):
    type: Literal["resume"]
    after: str | None = Field(default=None, max_length=200, description="Last message id seen.")


class EndFrame(_Frame):
    type: Literal["end"]
    outcome: SessionOutcome | None = Field(default=None, description="Technician: required.")
    notes: str = Field(default="", max_length=NOTES_MAX, description="Technician's notes.")


ClientFrame = Annotated[MessageFrame | TypingFrame | ResumeFrame | EndFrame, Field(discriminator="type")]
CLIENT_FRAME = TypeAdapter(ClientFrame)
