"""What only the MongoDB adapter has to show: several clients (as several service
replicas would be) racing on one document lose nothing, on FerretDB v1 too, whose
conditional updates are not atomic and are therefore guarded by write leases."""

from __future__ import annotations

import asyncio
from typing import Any

from berth_common.store import MongoStore, update
from berth_common.store.mongo import LEASES_COLLECTION, WriteLeases
from berth_testkit.mongo import MongoServer
from pymongo import AsyncMongoClient


async def test_leases_are_used_exactly_on_ferretdb(mongo: MongoServer, mongo_db_name: str) -> None:
    store = MongoStore(mongo.url, mongo_db_name)
    assert store.uses_write_leases is None
    await store.collection("things").create("a", {})
    assert store.uses_write_leases is (mongo.kind == "ferretdb")
    assert await store.collections() == ["things"]  # the lease collection is not listed
    await store.close()


async def test_two_clients_racing_lose_nothing(mongo: MongoServer, mongo_db_name: str) -> None:
    one, two = MongoStore(mongo.url, mongo_db_name), MongoStore(mongo.url, mongo_db_name)
    await one.collection("counters").create("c", {"count": 0})

    def bump(data: dict[str, Any]) -> None:
        data["count"] += 1

    n = 12
    await asyncio.gather(
        *(
            update(s.collection("counters"), "c", bump, caused_by=f"{tag}-{i}", retries=500)
            for i in range(n)
            for tag, s in (("one", one), ("two", two))
        )
    )
    final = await one.collection("counters").get("c")
    assert final is not None and final.data["count"] == 2 * n and final.version == 2 * n + 1
    await one.close()
    await two.close()


async def test_a_write_lease_admits_one_holder_at_a_time(mongo: MongoServer, mongo_db_name: str) -> None:
    clients = [AsyncMongoClient[dict[str, Any]](mongo.url) for _ in range(3)]
    leases = [WriteLeases(c[mongo_db_name][LEASES_COLLECTION]) for c in clients]
    inside = 0
    most = 0
    entries = 0

    async def work(lease: WriteLeases) -> None:
        nonlocal inside, most, entries
        for _ in range(4):
            async with lease.hold("things/a"):
                inside += 1
                entries += 1
                most = max(most, inside)
                await asyncio.sleep(0.005)
                inside -= 1

    await asyncio.gather(*(work(lease) for lease in leases for _ in range(2)))
    assert entries == 24 and most == 1
    for c in clients:
        await c.close()


async def test_a_lease_left_by_a_crashed_holder_expires(mongo: MongoServer, mongo_db_name: str) -> None:
    client = AsyncMongoClient[dict[str, Any]](mongo.url)
    coll = client[mongo_db_name][LEASES_COLLECTION]
    crashed = WriteLeases(coll, lease_seconds=0.5)
    holder = crashed.hold("things/b")
    await holder.__aenter__()  # taken and never released: the process "died"
    survivor = WriteLeases(coll, lease_seconds=0.5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    async with survivor.hold("things/b"):
        waited = loop.time() - began
    assert 0.2 <= waited < 5
    await client.close()
