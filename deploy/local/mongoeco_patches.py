"""Version-guarded workarounds for mongoeco 4.11, applied by the embedded launcher only (a real
MongoDB needs none): the full-collection `_id` scan on insert (below), the change-dispatch
lease that stalled the server, an empty `$in` on an indexed field, and a write whose session
ends mid-command (further down).

mongoeco 4.11's SQLite engine validates a single-document insert with
`scan_payload_id=True` (`engines/_sqlite_write_ops.py`, `insert_document_record`), so every
insert decodes every document of the collection to compare `_id`s: inserts get linearly
slower as a collection grows. The scan exists for ids that are equal in BSON terms but stored
under different keys — numbers (1, 1.0, Int64(1)) and, in principle, the two ObjectId classes
(PyMongo's and mongoeco's subclass), since the storage key is `repr((type(id), id))`.

For a plain `str` id the storage key already decides BSON equality, and for an ObjectId the
only other key an equal id can have is the other class's, so one primary-key lookup per
variant is exact; the scan is skipped only then. Numeric ids (and everything else) keep the
scan: upstream runs it for them regardless of the flag. mongoeco's own batch insert path
(`insert_many`) already relies on the storage key alone for non-numeric ids.

The fourth workaround (at the end) keeps a write whose client session ended mid-command from
leaving the server's one SQLite write transaction open for good.

Applied by the embedded launcher in its own process only; site-packages stay untouched. The
guard is the exact version verified plus a hash of the source the reasoning depends on, so a
new mongoeco runs unpatched (with a warning) until someone re-checks this module.
"""

import functools
import hashlib
import inspect
import logging
from importlib.metadata import version
from typing import Any

log = logging.getLogger("embedded_mongo")

VERIFIED_VERSIONS = frozenset({"4.11.0"})
VERIFIED_SOURCE_SHA256 = "dd3f1b7c65fe324436e173aad68074c76c8c14eb082b73440ed902ae326b38af"
"""sha256 of `guarded_source()` for the verified version (see `test_mongoeco_workaround.py`)."""

_MARK = "_assistline_id_scan_workaround"


def guarded_functions() -> list[Any]:
    """The mongoeco code whose behaviour the workaround's correctness rests on."""
    from mongoeco.core import identity
    from mongoeco.engines import _sqlite_write_ops
    from mongoeco.engines.sqlite import SQLiteEngine

    validate = SQLiteEngine._validate_document_against_unique_indexes
    return [
        getattr(validate, "__wrapped__", validate),
        SQLiteEngine._storage_key,
        identity.canonical_document_id,
        _sqlite_write_ops.insert_document_record,
    ]


def guarded_source() -> str:
    return "\n".join(inspect.getsource(function) for function in guarded_functions())


def guarded_source_sha256() -> str:
    return hashlib.sha256(guarded_source().encode()).hexdigest()


def _equal_id_variants(document_id: Any) -> list[Any] | None:
    """Every in-memory form of an id BSON-equal to `document_id`, or None when that set is
    not small and known (then the upstream scan must run)."""
    if type(document_id) is str:
        return [document_id]
    from bson.objectid import ObjectId as BsonObjectId
    from mongoeco.types import ObjectId as EcoObjectId

    if type(document_id) in (BsonObjectId, EcoObjectId):
        return [BsonObjectId(str(document_id)), EcoObjectId(str(document_id))]
    return None


def _without_payload_scan(validate: Any) -> Any:
    @functools.wraps(validate)
    def wrapper(
        self: Any,
        db_name: str,
        coll_name: str,
        document: dict[str, Any],
        *,
        exclude_storage_key: str | None = None,
        skip_id_check: bool = False,
        scan_payload_id: bool = False,
    ) -> None:
        variants = _equal_id_variants(document["_id"]) if scan_payload_id and "_id" in document else None
        if variants is not None and not skip_id_check:
            own_key = self._storage_key(document["_id"])
            conn = self._require_connection()
            for variant in variants:
                key = self._storage_key(variant)
                if key in (own_key, exclude_storage_key):
                    continue  # the upstream code checks the id's own key itself
                row = conn.execute(
                    "SELECT 1 FROM documents WHERE db_name = ? AND coll_name = ? AND storage_key = ? LIMIT 1",
                    (db_name, coll_name, key),
                ).fetchone()
                if row is not None:
                    raise self._unique_key_error(
                        f"Duplicate key: _id={document['_id']}", f"{db_name}.{coll_name}", document
                    )
            scan_payload_id = False
        return validate(
            self,
            db_name,
            coll_name,
            document,
            exclude_storage_key=exclude_storage_key,
            skip_id_check=skip_id_check,
            scan_payload_id=scan_payload_id,
        )

    setattr(wrapper, _MARK, True)
    return wrapper


def apply_insert_id_scan_workaround(*, force: bool = False) -> bool:
    """Patch this process's mongoeco when it is a verified version; True when applied.

    `force` skips the guard (only for tests measuring what the patch would do)."""
    from mongoeco.engines.sqlite import SQLiteEngine

    current = SQLiteEngine._validate_document_against_unique_indexes
    if getattr(current, _MARK, False):
        return True
    installed = version("mongoeco")
    digest = guarded_source_sha256()
    if not force and (installed not in VERIFIED_VERSIONS or digest != VERIFIED_SOURCE_SHA256):
        log.warning(
            "mongoeco %s (source sha256 %s) is not the version the insert workaround was verified "
            "against (%s); running unpatched: inserts scan the whole collection. Re-check "
            "deploy/local/mongoeco_patches.py against the new engines/_sqlite_write_ops.py.",
            installed,
            digest[:12],
            ", ".join(sorted(VERIFIED_VERSIONS)),
        )
        return False
    SQLiteEngine._validate_document_against_unique_indexes = _without_payload_scan(current)  # type: ignore[method-assign]
    return True


# --- Second workaround: no change-stream dispatch (nothing in Assistline watches) -----------
#
# After every write, mongoeco 4.11 hands the committed change to the collection's change hub
# through a lease on its SQLite change outbox (`SQLiteEngine.dispatch_committed_changes`),
# run on the server's event-loop thread: `_acquire_change_dispatch_lease` retries with
# `time.sleep` until it holds the lease. Seen under load in the test suite (py-spy on the
# server: main thread in `acquire_consumer_lease`, the SQLite worker idle): the whole server
# stopped answering for minutes, and every client's commands queued behind it. No service
# opens a change stream (`watch`), so the dispatch does nothing useful here; the change
# outbox itself stays bounded by mongoeco's own compaction (`max_entries`).


def _verified(versions: frozenset[str], workaround: str) -> bool:
    """The installed mongoeco is one `workaround` was checked against; else says so, loudly."""
    installed = version("mongoeco")
    if installed in versions:
        return True
    log.warning(
        "mongoeco %s is not the version the %s workaround was verified against (%s); running "
        "unpatched. Re-check deploy/local/mongoeco_patches.py.",
        installed,
        workaround,
        ", ".join(sorted(versions)),
    )
    return False


CHANGE_DISPATCH_VERIFIED_VERSIONS = frozenset({"4.11.0"})
_CHANGE_MARK = "_assistline_no_change_dispatch"


def apply_change_dispatch_workaround(*, force: bool = False) -> bool:
    """Make this process's mongoeco skip committed-change dispatch; True when applied."""
    from mongoeco.engines.adapter import EngineSpiAdapter

    if getattr(EngineSpiAdapter.dispatch_committed_changes, _CHANGE_MARK, False):
        return True
    if not force and not _verified(CHANGE_DISPATCH_VERIFIED_VERSIONS, "change-dispatch"):
        return False

    import dataclasses

    from mongoeco.engines.sqlite import SQLiteEngine

    def dispatch_committed_changes(self: Any, sink: object | None) -> None:
        return None  # no change streams: nothing to deliver

    setattr(dispatch_committed_changes, _CHANGE_MARK, True)
    EngineSpiAdapter.dispatch_committed_changes = dispatch_committed_changes  # type: ignore[method-assign]
    # And no change delivery at all: no consumer registration, no lease, no heartbeat thread,
    # no second SQLite connection holding locks (a run with only the no-op above still saw
    # "database is locked" for minutes). "none" is mongoeco's own mode for engines without a
    # change outbox: changes go to the in-process hub after each write returns.
    SQLiteEngine.capabilities = dataclasses.replace(SQLiteEngine.capabilities, change_delivery="none")
    return True


# mongoeco 4.11 translates `{field: {"$in": []}}` on an indexed field into SQL with an empty
# OR (`... AND ()`), and SQLite answers "syntax error": a find, count or update with an empty
# `$in` fails where MongoDB matches nothing. Services legitimately ask that (a technician with
# no companies left lists their codes), so the launcher makes an empty `$in` match nothing.

EMPTY_IN_VERIFIED_VERSIONS = frozenset({"4.11.0"})
_EMPTY_IN_MARK = "_assistline_empty_in"


def apply_empty_in_workaround(*, force: bool = False) -> bool:
    """Make an empty `$in` on an indexed field match nothing; True when applied."""
    from mongoeco.engines.sqlite import SQLiteEngine

    if getattr(SQLiteEngine._translate_in_with_multikey, _EMPTY_IN_MARK, False):
        return True
    if not force and not _verified(EMPTY_IN_VERIFIED_VERSIONS, "empty-$in"):
        return False
    translate = SQLiteEngine._translate_in_with_multikey

    def translate_in(self: Any, collection_id: int, db_name: str, coll_name: str, plan: Any, index: Any):
        if not plan.values:
            return "0 = 1", []
        return translate(self, collection_id, db_name, coll_name, plan, index)

    setattr(translate_in, _EMPTY_IN_MARK, True)
    SQLiteEngine._translate_in_with_multikey = translate_in  # type: ignore[method-assign]
    return True


# mongoeco 4.11 binds each wire command to the client's (implicit) session. When the client
# goes away while a write runs on the SQLite worker thread (a process killed, a connection
# pool closed at shutdown), the wire server closes that session; the write then reaches
# `SQLiteSessionRuntime.commit_write`, whose first check raises "La sesion ya esta cerrada",
# and so does the rollback that follows. Neither ends the `BEGIN IMMEDIATE` of the write:
# the server's one write connection stays inside that transaction for good, every later
# write becomes a savepoint inside it, nothing is committed again, and readers on their own
# connections (multi-document finds, counts) stop seeing anything written since — the whole
# store silently freezes while every write is acknowledged. Seen in the test suite at
# teardown. A session that has ended can no longer own a transaction (ending one aborts it),
# so its write scope is ended as a session-less write would be: committed, or rolled back.

ENDED_SESSION_VERIFIED_VERSIONS = frozenset({"4.11.0"})
_ENDED_SESSION_MARK = "_assistline_ended_session"


def apply_ended_session_write_workaround(*, force: bool = False) -> bool:
    """End a write scope whose session has ended instead of leaving it open; True when applied."""
    from mongoeco.engines._sqlite_session_runtime import SQLiteSessionRuntime

    if getattr(SQLiteSessionRuntime.commit_write, _ENDED_SESSION_MARK, False):
        return True
    if not force and not _verified(ENDED_SESSION_VERIFIED_VERSIONS, "ended-session write"):
        return False

    def live(context: Any) -> Any:
        return None if context is not None and context.has_ended else context

    def wrap(method: Any) -> Any:
        @functools.wraps(method)
        def scope_end(self: Any, conn: Any, context: Any) -> None:
            return method(self, conn, live(context))

        setattr(scope_end, _ENDED_SESSION_MARK, True)
        return scope_end

    SQLiteSessionRuntime.commit_write = wrap(SQLiteSessionRuntime.commit_write)  # type: ignore[method-assign]
    SQLiteSessionRuntime.rollback_write = wrap(SQLiteSessionRuntime.rollback_write)  # type: ignore[method-assign]
    return True
