"""Embedded MongoDB-wire server for local runs and tests (mongoeco, SQLite engine).

The services only speak the MongoDB wire protocol through PyMongo, so this is a drop-in
for a real MongoDB. Usage: python deploy/local/embedded_mongo.py --port 27017 --path var/mongo/data.sqlite

At start-up it applies the version-guarded workarounds of `mongoeco_patches.py`: the insert
`_id` scan (`--unpatched` leaves that one out, for before/after measurements), the
change-stream dispatch that could stall the server under load, the empty `$in`, the
write whose session ends mid-command, and the conditional write and the find on `_id`s that
scanned their whole collection.
"""

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

# Run as a script, this directory is on sys.path; imported as a module (tests), it may not be.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire import AsyncMongoEcoProxyServer
from mongoeco_patches import (  # type: ignore[import-not-found]
    apply_change_dispatch_workaround,
    apply_conditional_by_id_workaround,
    apply_empty_in_workaround,
    apply_ended_session_write_workaround,
    apply_find_by_ids_workaround,
    apply_insert_id_scan_workaround,
)


async def serve(host: str, port: int, path: Path, *, patched: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    workaround = apply_insert_id_scan_workaround() if patched else False
    # Always: without it the server can stall for minutes under load (see mongoeco_patches).
    apply_change_dispatch_workaround()
    # Always: an empty `$in` on an indexed field is a SQL syntax error otherwise.
    apply_empty_in_workaround()
    # Always: otherwise a client that goes away mid-write can freeze every later commit.
    apply_ended_session_write_workaround()
    # Always: otherwise every conditional write on `_id` scans its whole collection.
    apply_conditional_by_id_workaround()
    apply_find_by_ids_workaround()
    # One worker thread: SQLite then never sees two writers at once, so no request ever
    # fails with "database is locked" under load (they queue instead).
    engine = SQLiteEngine(str(path), executor_workers=1)
    server = AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    address = await server.start()
    print(
        f"embedded MongoDB-wire server ready at {address.uri} (data: {path}; "
        f"insert _id-scan workaround {'on' if workaround else 'off'})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=27017)
    parser.add_argument("--path", type=Path, default=Path("var/mongo/assistline.sqlite"))
    parser.add_argument("--unpatched", action="store_true", help="run mongoeco without the insert workaround")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    try:
        asyncio.run(serve(args.host, args.port, args.path, patched=not args.unpatched))
    except OSError as error:
        sys.exit(f"cannot start the embedded MongoDB-wire server: {error}")


if __name__ == "__main__":
    main()
