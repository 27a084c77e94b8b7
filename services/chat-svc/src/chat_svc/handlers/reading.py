"""Past and present sessions, for technicians, admins and the customer: live sessions from
the live collections, finished ones from the history once archived."""

from collections.abc import Sequence

from chat_svc.adapters.history import HistoryRepository
from chat_svc.adapters.messages import MessageRepository
from chat_svc.adapters.sessions import SessionRepository
from chat_svc.domain.access import ensure_can_read, technician_companies
from chat_svc.domain.errors import NotYourSession, SessionNotFound, WrongRole
from chat_svc.domain.model import ChatSession, Message, SessionState
from chat_svc.domain.transcript import render_transcript
from chat_svc.handlers.technicians import TechnicianRecords
from servicekit.auth import Principal, Role


class Reading:
    def __init__(
        self,
        sessions: SessionRepository,
        messages: MessageRepository,
        history: HistoryRepository,
        archived: MessageRepository,
        technicians: TechnicianRecords,
    ) -> None:
        self.sessions = sessions
        self.messages = messages
        self.history = history
        self.archived = archived
        self.technicians = technicians

    async def list(
        self, principal: Principal, *, state: SessionState | None, company_id: str | None, limit: int
    ) -> Sequence[ChatSession]:
        if principal.role is Role.ADMIN:
            query: dict[str, object] = {"account_id": principal.account_id}
            if company_id:
                query["company_id"] = company_id
        elif principal.role is Role.TECHNICIAN:
            allowed = technician_companies(principal, await self.technicians.of(principal))
            if company_id and company_id not in allowed:
                raise NotYourSession(f"you have no access to company {company_id}")
            companies = [company_id] if company_id else sorted(allowed)
            query = {"account_id": principal.account_id, "company_id": {"$in": companies}}
        else:
            raise WrongRole("only technicians and admins list chat sessions")
        live = await self.sessions.search(query, state=state, limit=limit)
        archived = await self.history.search(query, state=state, limit=limit)
        # A session being archived may be in both for a moment: the live copy wins.
        seen = {session.session_id for session in live}
        merged = [*live, *(session for session in archived if session.session_id not in seen)]
        return sorted(merged, key=lambda session: session.opened_at, reverse=True)[:limit]

    async def one(self, principal: Principal, session_id: str) -> tuple[ChatSession, Sequence[Message]]:
        live = await self.sessions.get(session_id)
        if live is not None:
            ensure_can_read(principal, live, await self.technicians.of(principal))
            timeline = await self.messages.read(session_id)
            if timeline.bucket_ids or live.is_active:
                return live, timeline.messages
            # Archived between the two reads (or ended before any message was stored).
        session = await self.history.get(session_id)
        if session is None:
            if live is not None:
                return live, []
            raise SessionNotFound(f"no chat session {session_id}")
        ensure_can_read(principal, session, await self.technicians.of(principal))
        return session, (await self.archived.read(session_id)).messages

    async def transcript(self, principal: Principal, session_id: str) -> tuple[ChatSession, str]:
        session, messages = await self.one(principal, session_id)
        return session, render_transcript(session, messages)
