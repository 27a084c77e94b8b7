"""Embedded MongoDB-wire server for local runs and tests (mongoeco, SQLite engine).

The services only speak the MongoDB wire protocol through PyMongo, so this is a drop-in
for a real MongoDB. Usage: python deploy/local/embedded_mongo.py --port 27017 --path var/mongo/data.sqlite
"""

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire import AsyncMongoEcoProxyServer


async def serve(host: str, port: int, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # One worker thread: SQLite then never sees two writers at once, so no request ever
    # fails with "database is locked" under load (they queue instead).
    engine = SQLiteEngine(str(path), executor_workers=1)
    server = AsyncMongoEcoProxyServer(engine=engine, host=host, port=port)
    address = await server.start()
    print(f"embedded MongoDB-wire server ready at {address.uri} (data: {path})", flush=True)
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
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.host, args.port, args.path))
    except OSError as error:
        sys.exit(f"cannot start the embedded MongoDB-wire server: {error}")


if __name__ == "__main__":
    main()
