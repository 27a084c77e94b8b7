"""The embedded launcher's insert workaround: flat inserts, exact duplicate keys, a loud guard.

Over the wire with PyMongo's async client against `deploy/local/embedded_mongo.py` in its own
process, as the services use it.
"""

import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from testkit.backends import free_port, wait_for_port

LOCAL = Path(__file__).resolve().parents[1] / "local"
pytestmark = pytest.mark.integration


def load_patches():
    spec = importlib.util.spec_from_file_location("mongoeco_patches", LOCAL / "mongoeco_patches.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The launcher on a free port; yields (URL, its ready line)."""
    port = free_port()
    path = tmp_path_factory.mktemp("store") / "store.sqlite"
    process = subprocess.Popen(
        [sys.executable, str(LOCAL / "embedded_mongo.py"), "--port", str(port), "--path", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        assert process.stdout is not None
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true", process.stdout.readline()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def db(launcher: tuple[str, str]) -> AsyncIterator:
    client: AsyncMongoClient = AsyncMongoClient(launcher[0])
    try:
        yield client["workaround"]
    finally:
        await client.close()


def test_guard_matches_the_installed_mongoeco() -> None:
    """Fails when mongoeco changes: re-read engines/_sqlite_write_ops.py and
    SQLiteEngine._validate_document_against_unique_indexes, then either update the verified
    version and hash in deploy/local/mongoeco_patches.py or drop the workaround (if the new
    version no longer scans the collection on insert, the patch is unnecessary)."""
    patches = load_patches()
    assert version("mongoeco") in patches.VERIFIED_VERSIONS, (
        f"mongoeco {version('mongoeco')} is installed; the insert workaround was verified on "
        f"{sorted(patches.VERIFIED_VERSIONS)} and the launcher now runs unpatched"
    )
    assert patches.guarded_source_sha256() == patches.VERIFIED_SOURCE_SHA256, (
        "the mongoeco code the insert workaround relies on changed (same version number?): re-verify it"
    )
    # The reason for the workaround: the single insert still asks for the payload scan.
    assert "True,  # noqa: FBT003" in patches.guarded_source()


def test_the_launcher_applies_the_workaround(launcher: tuple[str, str]) -> None:
    assert "workaround on" in launcher[1]


async def test_insert_into_a_large_collection_is_not_slower(db) -> None:
    small, large = db["empty"], db["large"]
    for start in range(0, 20_000, 2_500):
        await large.insert_many([{"_id": f"doc_{i:06d}", "state": "done"} for i in range(start, start + 2_500)])
    assert await large.estimated_document_count() == 20_000
    timings: dict[str, list[float]] = {"empty": [], "large": []}
    for attempt in range(9):  # interleaved, so machine noise hits both alike
        for name, collection in (("empty", small), ("large", large)):
            started = time.perf_counter()
            await collection.insert_one({"_id": f"new_{attempt}", "state": "queued"})
            timings[name].append(time.perf_counter() - started)
    empty, full = statistics.median(timings["empty"]), statistics.median(timings["large"])
    assert full <= 2 * empty, f"insert into 20,000 documents {full * 1000:.1f} ms vs empty {empty * 1000:.1f} ms"


@pytest.mark.parametrize("make_id", [lambda: "req_0123456789abcdef", ObjectId], ids=["string", "objectid"])
async def test_a_duplicate_id_still_fails(db, make_id) -> None:
    collection = db[f"dup_{make_id.__name__}"]
    await collection.insert_many([{"_id": f"other_{i}"} for i in range(50)])
    document_id = make_id()
    await collection.insert_one({"_id": document_id, "first": True})
    with pytest.raises(DuplicateKeyError) as raised:
        await collection.insert_one({"_id": document_id, "first": False})
    assert raised.value.code == 11000
    assert await collection.find_one({"_id": document_id}) == {"_id": document_id, "first": True}


async def test_numeric_ids_keep_bson_equality(db) -> None:
    """1 and 1.0 are one _id in MongoDB though stored under different keys: still caught."""
    collection = db["numeric"]
    await collection.insert_one({"_id": 1})
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"_id": 1.0})


async def test_objectid_classes_are_one_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyMongo's ObjectId and mongoeco's subclass are stored under different keys; the
    workaround's variant lookup must still see them as one _id (in-process engine, where
    both classes can meet)."""
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.errors import DuplicateKeyError as EngineDuplicateKeyError
    from mongoeco.types import ObjectId as EcoObjectId

    # Undone after the test: only the launcher process is meant to run patched.
    monkeypatch.setattr(
        SQLiteEngine,
        "_validate_document_against_unique_indexes",
        SQLiteEngine._validate_document_against_unique_indexes,
    )
    assert load_patches().apply_insert_id_scan_workaround()
    engine = SQLiteEngine(str(tmp_path / "engine.sqlite"))
    await engine.connect()
    try:
        stored = ObjectId()
        engine._require_connection().execute(
            "INSERT INTO documents (db_name, coll_name, storage_key, document) VALUES (?, ?, ?, ?)",
            ("db", "c", engine._storage_key(stored), engine._serialize_document({"_id": stored})),
        )
        assert engine._storage_key(stored) != engine._storage_key(EcoObjectId(str(stored)))
        with pytest.raises(EngineDuplicateKeyError):
            engine._validate_document_against_unique_indexes(
                "db", "c", {"_id": EcoObjectId(str(stored))}, scan_payload_id=True
            )
        engine._validate_document_against_unique_indexes("db", "c", {"_id": EcoObjectId()}, scan_payload_id=True)
    finally:
        await engine.disconnect()
