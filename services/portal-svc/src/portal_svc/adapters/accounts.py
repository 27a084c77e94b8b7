"""The `accounts` collection: one document per organisation using Assistline."""

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_svc.adapters.mongo import Doc


class AccountRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self._accounts = collection

    async def ensure_indexes(self) -> None:
        """Accounts are only ever read by `_id`."""

    async def insert(self, doc: Doc) -> bool:
        """Stores a new account; False when one with that id exists (a repeated seed)."""
        try:
            await self._accounts.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True
