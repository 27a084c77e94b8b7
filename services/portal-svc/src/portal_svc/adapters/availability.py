"""The `availability` read model: which technician customers may pick, per company.

One document per technician, fed by two sources, each the only source of its own fields and
each ordered by its own counter:

- `TechnicianUpdated` (portal-svc's own record, ordered by `revision`): `company_ids`,
  `capacity`, `display_name`, `enabled`;
- presence events (ordered by `sequence`): `available`, and `state` — what the supervisor
  dashboard shows (available, away, paused, offline, removed), in the same write.

A `TechnicianAvailable` built before an access change therefore cannot bring back a removed
company or an old capacity: it no longer writes them. A technician is listed for a company
only when both sources agree (available, enabled, and the company in the current list).
"""

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from portal_svc.adapters.mongo import Doc
from portal_svc.domain.dashboard_live import TechnicianState

# Fields the other source owns start out "unknown" when a source creates the document.
_NO_RECORD: Doc = {"revision": 0, "company_ids": [], "capacity": 1, "enabled": False}
_NO_PRESENCE: Doc = {"sequence": 0, "available": False}


class AvailabilityRepository:
    def __init__(self, collection: AsyncCollection) -> None:
        self._availability = collection

    async def ensure_indexes(self) -> None:
        await self._availability.create_index("company_ids")

    async def _upsert_if_newer(self, technician_id: str, counter: str, value: int, fields: Doc, defaults: Doc) -> bool:
        # `$not: {$gte}` also matches a document without the counter (written by an older
        # version of this service), which then takes the first value it gets.
        try:
            result = await self._availability.update_one(
                {"_id": technician_id, counter: {"$not": {"$gte": value}}},
                {
                    "$set": {**fields, counter: value},
                    "$setOnInsert": {k: v for k, v in defaults.items() if k not in fields},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the document exists with a counter at least as new: stale change
        return bool(result.modified_count or result.upserted_id)

    async def record_technician(
        self,
        technician_id: str,
        revision: int,
        *,
        account_id: str,
        display_name: str,
        company_ids: list[str],
        capacity: int,
        enabled: bool,
    ) -> bool:
        """Applies the technician's record at `revision` unless a newer one is held."""
        fields = {
            "account_id": account_id,
            "display_name": display_name,
            "company_ids": company_ids,
            "capacity": capacity,
            "enabled": enabled,
        }
        return await self._upsert_if_newer(technician_id, "revision", revision, fields, _NO_PRESENCE)

    async def record_presence(
        self,
        technician_id: str,
        sequence: int,
        *,
        account_id: str,
        available: bool,
        state: str,
        display_name: str,
        at: datetime,
    ) -> bool:
        """Applies a presence change unless a newer one is held. The name presence sends only
        fills a document the technician's record has not reached yet."""
        fields = {"account_id": account_id, "available": available, "state": state, "updated_at": at}
        return await self._upsert_if_newer(
            technician_id, "sequence", sequence, fields, {**_NO_RECORD, "display_name": display_name}
        )

    async def available_in(self, account_id: str, company_id: str) -> list[Doc]:
        return await self._availability.find(
            {"account_id": account_id, "company_ids": company_id, "available": True, "enabled": True}
        ).to_list()

    async def states_in(self, company_id: str) -> list[Doc]:
        """The enabled technicians of a company (by their record now) with their presence state."""
        return await self._availability.find(
            {"company_ids": company_id, "enabled": True}, {"state": 1, "available": 1}
        ).to_list()

    async def mark_missing_unavailable(self, present_ids: list[str], updated_before: datetime) -> int:
        """Whoever is still marked available but absent from presence's snapshot went away
        unseen — unless an event about them arrived after the snapshot was asked for."""
        result = await self._availability.update_many(
            {"_id": {"$nin": present_ids}, "available": True, "updated_at": {"$lt": updated_before}},
            {"$set": {"available": False, "state": TechnicianState.OFFLINE.value}},
        )
        return result.modified_count
