"""The customer rates a finished chat: only with that session's customer token, only after
the end, once. Technicians and admins read the rating with the session."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chat_svc.adapters.ratings import RatingRepository
from chat_svc.domain.access import customer_owns
from chat_svc.domain.errors import AlreadyRated, NotYourSession, SessionNotFound, SessionStillActive
from chat_svc.domain.model import ChatSession
from chat_svc.domain.rating import Rating, check_rating
from chat_svc.handlers.reading import Reading
from contracts import ChatSessionRated, Envelope
from servicekit.auth import Principal, Role
from servicekit.runtime import Runtime


class Ratings:
    def __init__(self, runtime: Runtime, ratings: RatingRepository, reading: Reading) -> None:
        self.runtime = runtime
        self.ratings = ratings
        self.reading = reading

    async def rate(self, principal: Principal, session_id: str, score: int, comment: str) -> Rating:
        if principal.role is not Role.CUSTOMER or not customer_owns(principal, session_id):
            raise NotYourSession("only the customer of this chat can rate it")
        score, comment = check_rating(score, comment)
        # The live session, or its archived copy once it has moved to the history.
        session = await self.reading.sessions.get(session_id) or await self.reading.history.get(session_id)
        if session is None:
            raise SessionNotFound(f"no chat session {session_id}")
        if session.account_id != principal.account_id:
            raise NotYourSession("this token is for another account")
        if session.is_active:
            raise SessionStillActive("a chat can be rated once it has ended")
        rating = Rating(session.session_id, score, comment, datetime.now(UTC))
        if not await self.ratings.insert(rating, session.account_id, [self._event(session, rating)]):
            raise AlreadyRated("this chat was already rated; thank you")
        return rating

    async def of(self, sessions: Sequence[ChatSession]) -> dict[str, Rating]:
        return await self.ratings.of([session.session_id for session in sessions])

    async def get(self, session_id: str) -> Rating | None:
        return await self.ratings.get(session_id)

    def _event(self, session: ChatSession, rating: Rating) -> Envelope[Any]:
        data = ChatSessionRated(
            session_id=session.session_id,
            request_id=session.request_id,
            account_id=session.account_id,
            company_id=session.company_id,
            technician_id=session.technician_id,
            score=rating.score,
            has_comment=bool(rating.comment),
            rated_at=rating.rated_at,
        )
        return self.runtime.event(data, correlation_id=session.correlation_id or session.request_id)
