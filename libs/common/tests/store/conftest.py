"""Fixtures for the store contract tests: one ``store`` fixture over the three adapters.

The MongoDB adapter runs against berth_testkit's ``mongo`` fixture: FerretDB v1 on
SQLite, or the MongoDB at BERTH_MONGODB_URL. A missing FerretDB fails with how to get it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from berth_common.store import MemoryStore, MongoStore, SqliteStore, Store

ADAPTERS = ["memory", "sqlite", "mongo"]


@pytest.fixture(params=ADAPTERS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    kind: str = request.param
    s: Store
    if kind == "memory":
        s = MemoryStore()
    elif kind == "sqlite":
        s = SqliteStore(tmp_path / "berth.db")
    else:
        # A database per test keeps tests independent on the shared server.
        s = MongoStore(request.getfixturevalue("mongo").url, request.getfixturevalue("mongo_db_name"))
    await s.ping()
    yield s
    await s.close()
