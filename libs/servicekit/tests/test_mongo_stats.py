"""Store-command counting (PyMongo command monitoring) and the `/stats` endpoint, against the
real MongoDB-wire server."""

import httpx
import pytest
from fastapi import FastAPI
from pymongo.errors import OperationFailure

from servicekit.health import health_router
from servicekit.mongo import CommandStats, make_mongo_client
from testkit.plugin import Backends

pytestmark = pytest.mark.integration


async def test_commands_are_counted_by_name_with_failures(real_backends: Backends) -> None:
    stats = CommandStats()
    client = make_mongo_client(real_backends.mongodb_url, app_name="stats-test", stats=stats)
    try:
        collection = client[f"stats-{real_backends.run_id}"]["things"]
        await collection.insert_one({"_id": "a", "n": 1})
        await collection.find_one({"_id": "a"})
        await collection.update_one({"_id": "a"}, {"$inc": {"n": 1}})
        with pytest.raises(OperationFailure):
            await client.admin.command("noSuchCommandAtAll")
    finally:
        await client.close()
    counted = stats.snapshot()
    by_command = counted["by_command"]
    assert by_command["insert"] == {"ok": 1, "failed": 0}
    assert by_command["find"]["ok"] == 1
    assert by_command["update"]["ok"] == 1
    assert by_command["noSuchCommandAtAll"] == {"ok": 0, "failed": 1}
    assert counted["failed"] == 1
    assert counted["commands"] == sum(c["ok"] + c["failed"] for c in by_command.values())
    assert counted["seconds"] > 0
    by_collection = {k: n for k, n in counted["by_collection"].items() if not k.startswith("endSessions")}  # at close
    assert by_collection == {
        "find things": 1,
        "insert things": 1,
        "noSuchCommandAtAll admin": 1,
        "update things": 1,
    }


async def test_stats_endpoint_reports_store_and_process(real_backends: Backends) -> None:
    stats = CommandStats()
    client = make_mongo_client(real_backends.mongodb_url, app_name="stats-test", stats=stats)
    app = FastAPI()
    app.include_router(health_router({}, stats=stats), prefix="/api/kit")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kit") as http:
            before = (await http.get("/api/kit/stats")).json()
            await client[f"stats-{real_backends.run_id}"]["things"].find_one({})
            response = await http.get("/api/kit/stats")
    finally:
        await client.close()
    assert response.status_code == 200
    after = response.json()
    assert after["store"]["commands"] > before["store"]["commands"]
    assert after["store"]["by_command"]["find"]["ok"] >= 1
    assert after["process"]["cpu_seconds"] > 0
    assert after["process"]["rss_bytes"] > 10 * 2**20  # a Python process with FastAPI loaded
