"""The `companies` collection: the customer companies of an account."""

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_svc.adapters.mongo import Doc


class CompanyRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self._companies = collection

    async def ensure_indexes(self) -> None:
        await self._companies.create_index("account_id")

    async def insert(self, doc: Doc) -> bool:
        """Stores a new company; False when one with that id exists (a repeated seed)."""
        try:
            await self._companies.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def of_account(self, account_id: str) -> list[Doc]:
        return await self._companies.find({"account_id": account_id}).sort("name").to_list()

    async def get(self, account_id: str, company_id: str) -> Doc | None:
        return await self._companies.find_one({"_id": company_id, "account_id": account_id})

    async def count_of_account(self, account_id: str, company_ids: list[str]) -> int:
        return await self._companies.count_documents({"account_id": account_id, "_id": {"$in": company_ids}})
