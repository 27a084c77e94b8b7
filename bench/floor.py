"""The floor: what the same broker and store cost with no Assistline code in the way.

- relay: a bare aio-pika two-hop relay (publish → consume → publish → consume), the shape
  of submit → dispatch → assigned, with publisher confirms like the services use;
- store: the minimum MongoDB operations one assignment needs (store the request, claim a
  technician slot, claim the request, publish-mark), against the same MongoDB-wire server.
"""

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass

import aio_pika
from pymongo import AsyncMongoClient, ReturnDocument


@dataclass
class Measure:
    name: str
    latencies: list[float]
    elapsed: float

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)


async def relay_floor(url: str, messages: int, concurrency: int) -> Measure:
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            f"floor-{uuid.uuid4().hex[:6]}", aio_pika.ExchangeType.TOPIC, auto_delete=True
        )
        first = await channel.declare_queue(exclusive=True)
        second = await channel.declare_queue(exclusive=True)
        await first.bind(exchange, "hop.one")
        await second.bind(exchange, "hop.two")
        sent: dict[str, float] = {}
        latencies: list[float] = []
        done = asyncio.Event()

        async def hop_one(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                await exchange.publish(aio_pika.Message(message.body), routing_key="hop.two")

        async def hop_two(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process():
                latencies.append(time.perf_counter() - sent[message.body.decode()])
                if len(latencies) == messages:
                    done.set()

        await first.consume(hop_one)
        await second.consume(hop_two)
        gate = asyncio.Semaphore(concurrency)

        async def send(i: int) -> None:
            async with gate:
                key = str(i)
                sent[key] = time.perf_counter()
                await exchange.publish(aio_pika.Message(key.encode()), routing_key="hop.one")

        start = time.perf_counter()
        await asyncio.gather(*(send(i) for i in range(messages)))
        await asyncio.wait_for(done.wait(), timeout=300)
        return Measure("aio-pika two-hop relay", latencies, time.perf_counter() - start)


async def store_floor(mongodb_url: str, assignments: int, concurrency: int) -> Measure:
    client: AsyncMongoClient = AsyncMongoClient(mongodb_url, tz_aware=True)
    db = client[f"floor-{uuid.uuid4().hex[:6]}"]
    try:
        technicians, requests = db["technicians"], db["requests"]
        await technicians.insert_one({"_id": "tec", "active": [], "capacity": 10**6})
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []

        async def assign(i: int) -> None:
            async with gate:
                started = time.perf_counter()
                request_id = f"req_{i}"
                await requests.insert_one({"_id": request_id, "state": "new"})
                await technicians.find_one_and_update(
                    {"_id": "tec"}, {"$push": {"active": request_id}}, return_document=ReturnDocument.AFTER
                )
                await requests.find_one_and_update({"_id": request_id, "state": "new"}, {"$set": {"state": "assigned"}})
                await requests.update_one({"_id": request_id}, {"$set": {"published": True}})
                latencies.append(time.perf_counter() - started)

        start = time.perf_counter()
        await asyncio.gather(*(assign(i) for i in range(assignments)))
        return Measure("MongoDB ops of one assignment", latencies, time.perf_counter() - start)
    finally:
        await client.drop_database(db.name)
        await client.close()
