"""The MongoDB-protocol server is real: pymongo's async client round-trips and indexes hold."""

from __future__ import annotations

import pytest
from berth_testkit.mongo import MongoServer
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError


async def test_documents_round_trip_and_unique_index_rejects_duplicate(mongo: MongoServer, mongo_db_name: str) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo.url, serverSelectionTimeoutMS=10_000)
    try:
        coll = client[mongo_db_name]["clusters"]
        await coll.create_index("name", unique=True)
        await coll.insert_many([{"name": "prod", "nodes": 3}, {"name": "dev", "nodes": 1}])

        found = await coll.find_one({"name": "prod"}, {"_id": 0})
        assert found == {"name": "prod", "nodes": 3}
        result = await coll.update_one({"name": "dev"}, {"$inc": {"nodes": 2}})
        assert result.modified_count == 1
        assert [d["nodes"] async for d in coll.find({}, {"_id": 0}).sort("name", 1)] == [3, 3]

        with pytest.raises(DuplicateKeyError):
            await coll.insert_one({"name": "prod", "nodes": 9})
        assert await coll.count_documents({"name": "prod"}) == 1
    finally:
        await client.drop_database(mongo_db_name)
        await client.close()
