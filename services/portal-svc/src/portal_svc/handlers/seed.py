"""The demo account, created idempotently (SEED_DEMO=true at start-up, or `python -m portal_svc seed`).

Sign in at `POST /api/portal/auth/login` with password ``demo-password`` and:

- ``admin@acme.test`` — admin of the "Acme Support" account;
- ``ana@acme.test`` — technician for Globex and Initech;
- ``ben@acme.test`` — technician for Globex;
- ``chloe@acme.test`` — technician for Initech.

Portals: ``globex`` (Web mode, SmartBox, active) and ``initech`` (Queue mode, SmartBox,
active), at ``/p/globex`` and ``/p/initech`` through the gateway.
"""

from datetime import UTC, datetime

from portal_svc.adapters.accounts import AccountRepository
from portal_svc.adapters.companies import CompanyRepository
from portal_svc.adapters.passwords import hash_password
from portal_svc.adapters.portals import PortalRepository
from portal_svc.adapters.users import UserRepository
from portal_svc.domain.events import company_updated, portal_configured, technician_updated
from portal_svc.handlers.stamp import Stamp
from servicekit.auth import Role
from servicekit.logging import get_logger

log = get_logger(__name__)

DEMO_PASSWORD = "demo-password"
ACCOUNT_ID = "acc_acme"
ADMIN = {"_id": "adm_acme", "email": "admin@acme.test", "name": "Acme Admin"}
COMPANIES = [{"_id": "cmp_globex", "name": "Globex"}, {"_id": "cmp_initech", "name": "Initech"}]
TECHNICIANS = [
    {"_id": "tec_ana", "email": "ana@acme.test", "name": "Ana", "company_ids": ["cmp_globex", "cmp_initech"]},
    {"_id": "tec_ben", "email": "ben@acme.test", "name": "Ben", "company_ids": ["cmp_globex"]},
    {"_id": "tec_chloe", "email": "chloe@acme.test", "name": "Chloe", "company_ids": ["cmp_initech"]},
]
PORTALS = [
    {"_id": "prt_globex", "company_id": "cmp_globex", "subdomain": "globex", "mode": "web", "portal_type": "smart_box"},
    {
        "_id": "prt_initech",
        "company_id": "cmp_initech",
        "subdomain": "initech",
        "mode": "queue",
        "portal_type": "smart_box",
    },
]
CORRELATION_ID = "demo-seed"


class DemoSeed:
    def __init__(
        self,
        accounts: AccountRepository,
        users: UserRepository,
        companies: CompanyRepository,
        portals: PortalRepository,
        stamp: Stamp,
    ) -> None:
        self._accounts = accounts
        self._users = users
        self._companies = companies
        self._portals = portals
        self._stamp = stamp

    async def run(self) -> bool:
        """Creates whatever part of the demo account is missing (what exists, e.g. from an
        earlier start or another replica, is left alone); returns whether anything was new."""
        password_hash = await hash_password(DEMO_PASSWORD)
        created = [
            await self._accounts.insert({"_id": ACCOUNT_ID, "name": "Acme Support", "created_at": datetime.now(UTC)})
        ]
        admin = {
            **ADMIN,
            "account_id": ACCOUNT_ID,
            "role": Role.ADMIN.value,
            "password_hash": password_hash,
            "enabled": True,
            "revision": 1,
        }
        created.append(await self._users.insert_if_absent(admin))
        for company in COMPANIES:
            doc = {**company, "account_id": ACCOUNT_ID, "revision": 1}
            event = self._stamp(company_updated(doc), correlation_id=CORRELATION_ID)
            created.append(await self._companies.insert(doc, [event]))
        for technician in TECHNICIANS:
            doc = {
                **technician,
                "account_id": ACCOUNT_ID,
                "role": Role.TECHNICIAN.value,
                "password_hash": password_hash,
                "capacity": 3,
                "enabled": True,
                "revision": 1,
            }
            event = self._stamp(technician_updated(doc), correlation_id=CORRELATION_ID)
            created.append(await self._users.insert_if_absent(doc, [event]))
        for portal in PORTALS:
            doc = {**portal, "account_id": ACCOUNT_ID, "status": "active", "allowed_origins": [], "revision": 1}
            event = self._stamp(portal_configured(doc), correlation_id=CORRELATION_ID)
            created.append(await self._portals.insert_if_absent(doc, [event]))
        log.info("demo account seeded" if any(created) else "demo account already present")
        return any(created)
