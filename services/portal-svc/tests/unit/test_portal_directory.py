"""The customer side's portal cache: bounded staleness, changes forgotten at once and passed on."""

from typing import Any

from portal_svc.adapters.portal_directory import PortalDirectory


class Store:
    def __init__(self) -> None:
        self.portal: dict[str, Any] = {
            "_id": "prt_1",
            "account_id": "acc",
            "company_id": "cmp",
            "subdomain": "globex",
            "status": "active",
        }
        self.reads = 0

    async def by_subdomain(self, subdomain: str) -> dict[str, Any] | None:
        self.reads += 1
        return dict(self.portal) if subdomain == self.portal["subdomain"] else None

    async def get(self, account_id: str, company_id: str) -> dict[str, Any] | None:
        return {"_id": company_id, "name": "Globex"}


async def test_a_change_elsewhere_is_seen_within_the_bound_and_here_at_once():
    store, now = Store(), [100.0]
    directory = PortalDirectory(store, store, ttl_seconds=2.0, clock=lambda: now[0])  # type: ignore[arg-type]
    first = await directory.by_subdomain("globex")
    assert first is not None and first["company_name"] == "Globex"
    store.portal["status"] = "inactive"  # changed through another replica
    now[0] += 1.9
    assert (await directory.by_subdomain("globex"))["status"] == "active"  # type: ignore[index]
    assert store.reads == 1
    now[0] += 0.2  # past the bound
    assert (await directory.by_subdomain("globex"))["status"] == "inactive"  # type: ignore[index]
    store.portal["status"] = "active"
    directory.forget("globex")  # changed through this replica
    assert (await directory.by_subdomain("globex"))["status"] == "active"  # type: ignore[index]
    assert store.reads == 3


async def test_misses_are_not_cached_and_zero_disables_the_cache():
    store = Store()
    directory = PortalDirectory(store, store, ttl_seconds=0)  # type: ignore[arg-type]
    assert await directory.by_subdomain("initech") is None
    store.portal["subdomain"] = "initech"
    assert await directory.by_subdomain("initech") is not None
    await directory.by_subdomain("initech")
    assert store.reads == 3


async def test_a_change_forgets_here_and_is_told_to_the_other_replicas():
    store, told = Store(), []
    directory = PortalDirectory(store, store, ttl_seconds=30.0)  # type: ignore[arg-type]

    async def tell(subdomains) -> None:
        told.append(list(subdomains))

    directory.told = tell
    await directory.by_subdomain("globex")
    store.portal["status"] = "inactive"
    await directory.changed("globex")
    assert told == [["globex"]]
    assert (await directory.by_subdomain("globex"))["status"] == "inactive"  # type: ignore[index]
    assert store.reads == 2
