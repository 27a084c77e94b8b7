"""HTTP routes of presence-svc (under /api/presence)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, status

from contracts import new_id
from presence_svc.domain.errors import InvalidAddress
from presence_svc.domain.preferences import Preferences, normalise_address
from presence_svc.entrypoints.schemas import (
    ContactIn,
    HistoryPageOut,
    PreferencesIn,
    PresenceOut,
    RosterOut,
    SnapshotOut,
    StatusIn,
)
from presence_svc.handlers import Handlers
from servicekit.auth import Authenticator, Principal, Role


def api_router(handlers: Handlers, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["presence"])
    presence, preferences = handlers.presence, handlers.preferences
    Technician = Annotated[Principal, Depends(auth.require(Role.TECHNICIAN))]
    Reader = Annotated[Principal, Depends(auth.require(Role.SERVICE, Role.ADMIN))]
    Admin = Annotated[Principal, Depends(auth.require(Role.ADMIN))]
    CorrelationId = Annotated[str | None, Header(max_length=128, alias="X-Correlation-ID")]

    @router.get("/me", summary="My availability", response_model=PresenceOut)
    async def me(me: Technician) -> dict[str, object]:
        return (await presence.me(me.subject, me.account_id)).as_dict()

    @router.put("/me/status", summary="Choose Available / Unavailable", response_model=PresenceOut)
    async def choose(body: StatusIn, me: Technician, correlation_id: CorrelationId = None) -> dict[str, object]:
        view = await presence.choose(me.subject, me.account_id, body.status, correlation_id or new_id("corr"))
        return view.as_dict()

    @router.get("/me/preferences", summary="My notification preferences", response_model=Preferences)
    async def get_preferences(me: Technician) -> Preferences:
        await presence.known(me.subject, me.account_id)
        return await preferences.get(me.subject)

    @router.put("/me/preferences", summary="Change my notification preferences", response_model=Preferences)
    async def put_preferences(body: PreferencesIn, me: Technician) -> Preferences:
        await presence.known(me.subject, me.account_id)
        changes = body.changes()
        return await preferences.change(me.subject, lambda p: p.model_copy(update=changes))

    @router.post(
        "/me/preferences/contacts",
        summary="Add an e-mail contact",
        response_model=Preferences,
        status_code=status.HTTP_201_CREATED,
    )
    async def add_contact(body: ContactIn, me: Technician) -> Preferences:
        await presence.known(me.subject, me.account_id)
        return await preferences.change(me.subject, lambda p: p.with_contact(body.address))

    @router.delete("/me/preferences/contacts/{address}", summary="Remove an e-mail contact", response_model=Preferences)
    async def remove_contact(
        address: Annotated[str, Path(max_length=254, description="The contact's e-mail address.")],
        me: Technician,
    ) -> Preferences:
        await presence.known(me.subject, me.account_id)
        try:
            normalised = normalise_address(address)
        except ValueError as error:
            raise InvalidAddress(str(error)) from error
        return await preferences.change(me.subject, lambda p: p.without_contact(normalised))

    @router.get(
        "/snapshot",
        summary="Technicians available right now (read-model bootstrap)",
        response_model=SnapshotOut,
    )
    async def snapshot(reader: Reader) -> dict[str, object]:
        # A service token reads every account; an admin only their own.
        account = None if reader.role is Role.SERVICE else reader.account_id
        return {"technicians": await presence.snapshot(account)}

    @router.get("/roster", summary="Live roster of the account's technicians (admins)", response_model=RosterOut)
    async def roster(admin: Admin) -> dict[str, object]:
        # Only the admin's own account, as presence's event-fed view of technicians knows it.
        return {"technicians": [view.as_dict() for view in await presence.roster(admin.account_id)]}

    @router.get(
        "/technicians/{technician_id}/history",
        summary="A technician's status history, newest first (admins)",
        response_model=HistoryPageOut,
    )
    async def history(
        admin: Admin,
        technician_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="Technician.")],
        cursor: Annotated[str | None, Query(max_length=200, description="From the previous page.")] = None,
        limit: Annotated[int, Query(ge=1, le=100, description="Entries per page.")] = 20,
    ) -> dict[str, object]:
        page = await handlers.status_log.page(admin.account_id, technician_id, cursor, limit)
        return {"entries": [entry.as_dict() for entry in page.entries], "next_cursor": page.next_cursor}

    return router
