"""open_store picks the adapter a URL names and rejects the rest clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from berth_common.store import MemoryStore, MongoStore, SqliteStore, open_store, sqlite_url
from berth_common.store.factory import mongo_database
from berth_testkit.mongo import MongoServer


async def test_memory_url() -> None:
    store = open_store("memory://")
    assert isinstance(store, MemoryStore)
    await store.collection("x").create("k", {})
    assert isinstance(open_store("memory://"), MemoryStore)
    assert await open_store("memory://").collection("x").get("k") is None  # fresh each time


async def test_sqlite_urls(tmp_path: Path) -> None:
    absolute = open_store(sqlite_url(tmp_path / "a" / "berth.db"))
    assert isinstance(absolute, SqliteStore) and absolute.path == tmp_path / "a" / "berth.db"
    await absolute.collection("x").create("k", {"v": 1})
    assert (tmp_path / "a" / "berth.db").is_file()
    await absolute.close()
    relative = open_store("sqlite:///data/berth.db")
    assert isinstance(relative, SqliteStore) and relative.path == Path("data/berth.db")
    await relative.close()


async def test_mongo_urls(mongo: MongoServer) -> None:
    assert mongo_database("mongodb://h:27017") == "berth"
    assert mongo_database("mongodb://u:p@h:27017/") == "berth"
    assert mongo_database("mongodb://h:27017/platform?replicaSet=rs0") == "platform"
    base = mongo.url.split("?", 1)[0].rstrip("/")
    store = open_store(f"{base}/factorytest")
    assert isinstance(store, MongoStore) and store.database == "factorytest"
    await store.ping()
    await store.close()
    # a service's store is a database of its own on the shared server
    own = open_store(f"{base}/platform", service="cluster-manager")
    assert isinstance(own, MongoStore) and own.database == "platform_cluster_manager"
    other = open_store(base, service="node-manager", default_database="site1")
    assert isinstance(other, MongoStore) and other.database == "site1_node_manager"
    await other.close()
    await own.close()


@pytest.mark.parametrize(
    "url",
    ["", "berth.db", "postgres://u:secret@h/db", "sqlite://", "sqlite:///", "mongodb://h/bad.name"],
)
def test_bad_urls_are_rejected_without_echoing_secrets(url: str) -> None:
    with pytest.raises(ValueError) as err:
        open_store(url)
    assert "secret" not in str(err.value)
