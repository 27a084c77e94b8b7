"""How the embedded store's cost grows with a collection, with and without the insert workaround.

For collections of 0 / 1,000 / 6,000 / 20,000 documents it times (median of several, over
the wire with PyMongo's async client) an insert, an indexed equality find and a
`find_one_and_update` with a sort, against the launcher patched and `--unpatched`.
Usage: python -m bench.store_scaling [--sizes 0,1000,6000,20000] [--repeat 7]
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pymongo import AsyncMongoClient, ReturnDocument

from testkit.backends import REPO_ROOT, free_port, wait_for_port

LAUNCHER = REPO_ROOT / "deploy/local/embedded_mongo.py"


@contextmanager
def embedded_store(data_dir: Path, *, patched: bool) -> Iterator[str]:
    """The launcher in its own process on a free port; yields its URL."""
    port = free_port()
    args = [sys.executable, str(LAUNCHER), "--port", str(port), "--path", str(data_dir / "store.sqlite")]
    process = subprocess.Popen(args + ([] if patched else ["--unpatched"]))
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


async def fill(collection, size: int) -> None:
    """`size` documents shaped like the services' (string id, a state, a time to sort on)."""
    for start in range(0, size, 2000):
        await collection.insert_many(
            [
                {"_id": f"doc_{i:08d}", "state": "done" if i % 10 else "queued", "company": f"c{i % 7}", "at": i}
                for i in range(start, min(size, start + 2000))
            ]
        )


async def median_seconds(operation: Callable[[int], Awaitable[object]], repeat: int) -> float:
    timings = []
    for attempt in range(repeat):
        started = time.perf_counter()
        await operation(attempt)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def measure(url: str, sizes: list[int], repeat: int) -> dict[int, dict[str, float]]:
    client: AsyncMongoClient = AsyncMongoClient(url)
    figures: dict[int, dict[str, float]] = {}
    try:
        for size in sizes:
            collection = client["scaling"][f"c{size}"]
            await collection.create_index([("company", 1), ("state", 1)])
            await fill(collection, size)

            async def insert(i: int, collection=collection, size=size) -> None:
                await collection.insert_one({"_id": f"new_{size}_{i}", "state": "queued", "company": "c1", "at": -i})

            async def find(i: int, collection=collection) -> None:
                await collection.find({"company": f"c{i % 7}", "state": "queued"}).limit(5).to_list()

            async def claim(i: int, collection=collection) -> None:
                await collection.find_one_and_update(
                    {"company": f"c{i % 7}", "state": "queued"},
                    {"$set": {"state": "queued", "claimed": i}},
                    sort=[("at", 1)],
                    return_document=ReturnDocument.AFTER,
                )

            figures[size] = {
                "insert": await median_seconds(insert, repeat),
                "indexed find": await median_seconds(find, repeat),
                "find_one_and_update, sorted": await median_seconds(claim, repeat),
            }
    finally:
        await client.close()
    return figures


def table(before: dict[int, dict[str, float]], after: dict[int, dict[str, float]]) -> str:
    sizes = sorted(after)
    lines = [
        "| operation (median ms) | " + " | ".join(f"{s:,} docs before / after" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    for operation in next(iter(after.values())):
        cells = [f"{before[s][operation] * 1000:.1f} / {after[s][operation] * 1000:.1f}" for s in sizes]
        lines.append(f"| {operation} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,1000,6000,20000")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "results" / "store-scaling.md")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    runs = {}
    for patched in (False, True):
        with tempfile.TemporaryDirectory() as tmp, embedded_store(Path(tmp), patched=patched) as url:
            runs[patched] = await measure(url, sizes, args.repeat)
    report = "Embedded store (mongoeco, SQLite), before / after the insert `_id`-scan workaround:\n\n"
    report += table(runs[False], runs[True])
    print(report)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(report + "\n")


if __name__ == "__main__":
    asyncio.run(main())
