"""Version-guarded workarounds for mongoeco 4.11, applied by the embedded launcher only (a real
MongoDB needs none): the full-collection `_id` scan on insert (below), the change-dispatch
lease that stalled the server, an empty `$in` on an indexed field, a write whose session
ends mid-command, and the conditional write and the find on `_id`s that scanned their whole
collection (further down).

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
# opens a change stream (`watch`), so the dispatch does nothing useful here, and neither
# does the change outbox it reads: writes no longer record their changes there.


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
    # Nor rows in the change outbox: only that dispatch reads them, yet every write still
    # recorded its change there (a serialised copy, an identity row, a compaction pass: ~7 %
    # of the server's time under the benchmark). Without a commit sequence to honour
    # (change_delivery "none"), mongoeco accepts a write that records none.
    from mongoeco.engines import sqlite

    def append_change(*args: Any, **kwargs: Any) -> None:
        return None  # nothing reads the change outbox without change dispatch

    setattr(append_change, _CHANGE_MARK, True)
    sqlite._sqlite_append_change = append_change
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


# mongoeco 4.11 finds the document an update, a findAndModify or a delete works on through a
# fast path that only knows a filter made of `_id` alone (`_sqlite_fast_paths.
# select_first_document_for_plan`). Every other filter is compiled to SQL over the JSON of
# every document of the collection, so the conditional write on current state that every
# Assistline change is — `{"_id": id, "state": "queued"}` — scanned the whole collection:
# measured 7.8 ms at 100 documents and 45 ms at 2,000, against a flat 3.6 ms for `_id` alone.
# When the filter is an `$and` one of whose clauses is `_id` equal to a string, at most one
# document can match (a string id has one storage key), so that document is read by its key
# and the whole filter is evaluated on it with mongoeco's own matcher, as its Python fallback
# does. Other filters, and ids of other types, keep the upstream path.

CONDITIONAL_BY_ID_VERIFIED_VERSIONS = frozenset({"4.11.0"})
_CONDITIONAL_BY_ID_MARK = "_assistline_conditional_by_id"


def _is_plain(node: Any) -> bool:
    """A field condition (or an `$and` / `$or` of them) mongoeco's matcher evaluates on a
    document without variables, collation or server-side JavaScript."""
    from mongoeco.core import query_plan as q

    if isinstance(node, q.AndCondition | q.OrCondition):
        return all(_is_plain(clause) for clause in node.clauses)
    # `$not` and `$all` too: presence's alert writes (`{"_id": id, "closed.<t>": {"$not":
    # {"$gte": at}}}`) and the outbox clear (`"_outbox._id": {"$all": ids}`) otherwise took
    # the SQL path, whose plan compiler inspects every document of the collection.
    if isinstance(node, q.NotCondition):
        return _is_plain(node.clause)
    return isinstance(
        node,
        q.EqualsCondition
        | q.NotEqualsCondition
        | q.GreaterThanCondition
        | q.GreaterThanOrEqualCondition
        | q.LessThanCondition
        | q.LessThanOrEqualCondition
        | q.InCondition
        | q.NotInCondition
        | q.AllCondition
        | q.ExistsCondition
        | q.SizeCondition,
    )


def _string_id_of(plan: Any) -> str | None:
    """The string `_id` a filter on `_id` alone, or an `$and` of plain conditions, pins down;
    else None. `_id` alone too: every archive into a history collection (`replace_one` with
    upsert) and every bare by-`_id` update otherwise compiled a plan that inspects each
    document of the collection (85 ms vs 5 ms at 20,000 documents)."""
    from mongoeco.core import query_plan as q

    if isinstance(plan, q.EqualsCondition) and plan.field == "_id" and type(plan.value) is str:
        return plan.value
    if not isinstance(plan, q.AndCondition) or not _is_plain(plan):
        return None
    for clause in plan.clauses:
        if isinstance(clause, q.EqualsCondition) and clause.field == "_id" and type(clause.value) is str:
            return clause.value
    return None


def _row_by_id(engine: Any, conn: Any, db_name: str, coll_name: str, document_id: str) -> Any:
    """`(storage_key, serialised document)` of the document with this string id, or None."""
    return conn.execute(
        "SELECT storage_key, document FROM documents WHERE db_name = ? AND coll_name = ? AND storage_key = ?",
        (db_name, coll_name, engine._storage_key(document_id)),
    ).fetchone()


def apply_conditional_by_id_workaround(*, force: bool = False) -> bool:
    """Make a write filtered on a string `_id` plus conditions read one document; True when applied."""
    from mongoeco.core.filtering import QueryEngine
    from mongoeco.engines import sqlite

    upstream = sqlite._sqlite_runtime_select_first_document_for_plan
    if getattr(upstream, _CONDITIONAL_BY_ID_MARK, False):
        return True
    if not force and not _verified(CONDITIONAL_BY_ID_VERIFIED_VERSIONS, "conditional-write-by-_id"):
        return False

    @functools.wraps(upstream)
    def select_first_document_for_plan(
        engine: Any, db_name: str, coll_name: str, plan: Any, *, hint: Any = None
    ) -> tuple[str, Any] | None:
        document_id = _string_id_of(plan) if hint is None else None
        if document_id is None:
            return upstream(engine, db_name, coll_name, plan, hint=hint)
        row = _row_by_id(engine, engine._require_connection(), db_name, coll_name, document_id)
        if row is None:
            return None
        document = engine._deserialize_document(row[1])
        return (row[0], document) if QueryEngine.match_plan(document, plan) else None

    setattr(select_first_document_for_plan, _CONDITIONAL_BY_ID_MARK, True)
    sqlite._sqlite_runtime_select_first_document_for_plan = select_first_document_for_plan
    return True


# The same holds for reads. A `find` on `{"_id": id, ...conditions}` or `{"_id": {"$in":
# [ids]}}` is compiled to SQL over every document of the collection (measured: 2.8 → 6.4 ms
# and 4.6 → 13 ms from 100 to 2,000 documents), and every multi-document find opens a SQLite
# connection of its own (~3 ms, 7 % of the server's time under the benchmark). When the
# filter pins string ids, those documents are read by their keys on the server's connection
# and filtered, sorted and projected with mongoeco's own functions, as its fallback does.

FIND_BY_IDS_VERIFIED_VERSIONS = frozenset({"4.11.0"})
_FIND_BY_IDS_MARK = "_assistline_find_by_ids"


def _string_ids_in(plan: Any) -> list[str] | None:
    """The string `_id`s a filter is limited to (`_id` equal, `$in`, or either among plain
    conditions of an `$and`), in filter order without repeats; else None."""
    from mongoeco.core import query_plan as q

    def pinned(node: Any) -> list[str] | None:
        if isinstance(node, q.EqualsCondition) and node.field == "_id" and type(node.value) is str:
            return [node.value]
        if isinstance(node, q.InCondition) and node.field == "_id" and all(type(v) is str for v in node.values):
            return list(dict.fromkeys(node.values))  # type: ignore[arg-type]
        return None

    if not isinstance(plan, q.AndCondition):
        return pinned(plan)
    if not _is_plain(plan):
        return None
    # The whole filter is matched on each document read, so any pinning clause bounds it.
    return next((ids for ids in map(pinned, plan.clauses) if ids is not None), None)


def _plain_find(semantics: Any) -> bool:
    projection = semantics.projection or {}
    return (
        semantics.text_query is None
        and semantics.collation is None
        and semantics.hint is None
        and not semantics.skip
        and not any("$" in key for key in projection)
    )


def apply_find_by_ids_workaround(*, force: bool = False) -> bool:
    """Make a find limited to string `_id`s read those documents only; True when applied."""
    import datetime

    from mongoeco.core.filtering import QueryEngine
    from mongoeco.core.projections import apply_projection
    from mongoeco.core.sorting import sort_documents
    from mongoeco.engines._sqlite_connection import sqlite_read_scope
    from mongoeco.engines.sqlite import SQLiteEngine

    upstream = SQLiteEngine.scan_find_semantics
    if getattr(upstream, _FIND_BY_IDS_MARK, False):
        return True
    if not force and not _verified(FIND_BY_IDS_VERIFIED_VERSIONS, "find-by-_id"):
        return False

    def read(engine: Any, db_name: str, coll_name: str, semantics: Any, ids: list[str], context: Any) -> list[Any]:
        engine._ensure_session_can_use_engine(context)
        with engine._lock:
            conn = engine._require_connection(context)
            with engine._bind_connection(conn):
                engine._purge_expired_documents_sync(
                    conn, db_name, coll_name, context=context, now=semantics.variables.now.replace(tzinfo=datetime.UTC)
                )
                with sqlite_read_scope(conn):
                    rows = [
                        row for document_id in ids if (row := _row_by_id(engine, conn, db_name, coll_name, document_id))
                    ]
        rows.sort()  # key order, as upstream (and MongoDB's `_id` index) returns them
        documents = [
            document
            for document in (engine._deserialize_document(payload) for _, payload in rows)
            if QueryEngine.match_plan(
                document, semantics.query_plan, dialect=semantics.dialect, variables=semantics.variables
            )
        ]
        if semantics.sort:
            documents = sort_documents(documents, semantics.sort, dialect=semantics.dialect)
        if semantics.limit:
            documents = documents[: semantics.limit]
        return [apply_projection(document, semantics.projection, dialect=semantics.dialect) for document in documents]

    @functools.wraps(upstream)
    def scan_find_semantics(self: Any, db_name: str, coll_name: str, semantics: Any, *, context: Any = None) -> Any:
        # The wire server gives every command its client's (implicit) session; one inside a
        # transaction reads through its own connection, so only those outside one are served.
        in_transaction = getattr(context, "in_transaction", False)
        ids = None if in_transaction or not _plain_find(semantics) else _string_ids_in(semantics.query_plan)
        if ids is None:
            return upstream(self, db_name, coll_name, semantics, context=context)

        async def scan() -> Any:
            for document in await self._run_blocking(read, self, db_name, coll_name, semantics, ids, context):
                yield document

        return scan()

    setattr(scan_find_semantics, _FIND_BY_IDS_MARK, True)
    SQLiteEngine.scan_find_semantics = scan_find_semantics  # type: ignore[method-assign]
    return True
