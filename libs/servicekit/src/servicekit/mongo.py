"""The PyMongo async client factory (PyMongo's async API, the successor of Motor)."""

from pymongo import AsyncMongoClient


def make_mongo_client(url: str, *, app_name: str) -> AsyncMongoClient:
    return AsyncMongoClient(
        url,
        appname=app_name,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=10_000,
    )


async def ping(client: AsyncMongoClient) -> None:
    await client.admin.command("ping")
