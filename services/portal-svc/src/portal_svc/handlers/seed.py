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

from pymongo.errors import DuplicateKeyError

from servicekit.auth import Role
from servicekit.logging import get_logger

from portal_svc.adapters.passwords import hash_password
from portal_svc.handlers.context import Context

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
    {"_id": "prt_initech", "company_id": "cmp_initech", "subdomain": "initech", "mode": "queue", "portal_type": "smart_box"},
]


async def _insert_once(collection, doc: dict, ctx: Context | None = None, events=()) -> bool:
    try:
        if events:
            await ctx.repo.insert_with_events(collection, doc, list(events), ctx.runtime.outbox)
        else:
            await collection.insert_one(doc)
    except DuplicateKeyError:
        return False  # already seeded (by an earlier start or another replica)
    return True


async def seed_demo(ctx: Context) -> bool:
    """Creates whatever part of the demo account is missing; returns whether anything was new."""
    repo, created = ctx.repo, []
    password_hash = await hash_password(DEMO_PASSWORD)
    created.append(await _insert_once(repo.accounts, {"_id": ACCOUNT_ID, "name": "Acme Support", "created_at": datetime.now(UTC)}))
    admin = {**ADMIN, "account_id": ACCOUNT_ID, "role": Role.ADMIN.value, "password_hash": password_hash, "enabled": True, "revision": 1}
    created.append(await _insert_once(repo.users, admin))
    for company in COMPANIES:
        created.append(await _insert_once(repo.companies, {**company, "account_id": ACCOUNT_ID}))
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
        created.append(await _insert_once(repo.users, doc, ctx, [ctx.technician_event(doc, correlation_id="demo-seed")]))
    for portal in PORTALS:
        doc = {**portal, "account_id": ACCOUNT_ID, "status": "active", "allowed_origins": [], "revision": 1}
        created.append(await _insert_once(repo.portals, doc, ctx, [ctx.portal_event(doc, correlation_id="demo-seed")]))
    log.info("demo account seeded" if any(created) else "demo account already present")
    return any(created)
