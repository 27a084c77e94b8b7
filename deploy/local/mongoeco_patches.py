"""A version-guarded workaround for mongoeco's full-collection `_id` scan on insert.

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
