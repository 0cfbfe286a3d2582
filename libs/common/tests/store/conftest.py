"""Fixtures for the store contract tests: one ``store`` fixture over the three adapters."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from berth_common.store import MemoryStore, MongoStore, SqliteStore, Store
from berth_testkit.procs import Proc, free_port, tcp_open, which_or_fail

FERRETDB_HOW = (
    "Build FerretDB v1 with `scripts/build-go-parts.sh ferretdb` (it lands in "
    "~/.cache/berth/parts/ferretdb-v1.24.2/bin/ferretdb), or point BERTH_MONGODB_URL at a MongoDB."
)


@pytest.fixture(scope="session")
def _mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A mongodb:// URL: BERTH_MONGODB_URL when set, else a FerretDB v1 (SQLite backend)
    of this session. Stand-in until berth_testkit's ``mongo`` fixture lands."""
    external = os.environ.get("BERTH_MONGODB_URL")
    if external:
        yield external
        return
    cache = Path(os.environ.get("BERTH_PARTS_CACHE", Path.home() / ".cache/berth/parts"))
    binary = which_or_fail(
        "ferretdb",
        os.environ.get("BERTH_BIN_FERRETDB", ""),
        cache / "ferretdb-v1.24.2/bin/ferretdb",
        how=FERRETDB_HOW,
    )
    work = tmp_path_factory.mktemp("ferretdb")
    (work / "sqlite").mkdir()
    port, debug_port = free_port(), free_port()
    proc = Proc(
        "ferretdb",
        [
            binary,
            f"--listen-addr=127.0.0.1:{port}",
            "--handler=sqlite",
            f"--sqlite-url=file:{work / 'sqlite'}/",
            f"--state-dir={work}",
            f"--debug-addr=127.0.0.1:{debug_port}",
            "--telemetry=disable",
            "--log-level=warn",
        ],
        log_dir=work,
    ).start()
    try:
        proc.wait_ready(lambda: tcp_open(port), timeout=60, what=f"(port {port})")
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        proc.stop()


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
        url = request.getfixturevalue("_mongo_url")
        # A database per test keeps tests independent on the shared server.
        s = MongoStore(url, f"t{uuid.uuid4().hex[:16]}")
    await s.ping()
    yield s
    await s.close()
