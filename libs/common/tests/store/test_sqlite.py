"""What only the SQLite adapter has to show: durability across reopen and several
processes writing one file without losing anything."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from berth_common.events import Envelope
from berth_common.store import OutboxRelay, SqliteStore, update

WORKER = textwrap.dedent(
    """
    import asyncio, sys, time
    from berth_common.store import SqliteStore, update

    async def main(path, worker, n, start_at):
        store = SqliteStore(path)
        coll = store.collection("counters")
        await store.ping()
        await asyncio.sleep(max(0.0, start_at - time.time()))  # all start together

        def bump(data):
            data["count"] = data.get("count", 0) + 1
            data.setdefault("by", {}).setdefault(worker, 0)
            data["by"][worker] += 1

        for i in range(n):
            await update(coll, "shared", bump, caused_by=f"{worker}-{i}", initial={}, retries=10000)
        await store.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
    """
)


async def test_state_and_outbox_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "berth.db"
    e = Envelope(source="test/sqlite", type="berth.test.happened.v1", data={"n": 1})
    first = SqliteStore(path)
    things = first.collection("things")
    await things.create("a", {"v": 1}, events=[e], caused_by="cmd-1")
    await things.create("b", {"v": 2})
    await things.replace("b", {"v": 3}, expected_version=1)
    await first.close()

    second = SqliteStore(path)
    things = second.collection("things")
    a, b = await things.get("a"), await things.get("b")
    assert a is not None and a.data == {"v": 1} and a.has_applied("cmd-1")
    assert b is not None and b.data == {"v": 3} and b.version == 2
    assert await second.collections() == ["things"]
    # The event written before the "restart" is still there to publish.
    got: list[Envelope] = []

    async def publish(env: Envelope) -> None:
        got.append(env)

    assert await OutboxRelay(second, publish, collections=["things"]).publish_pending() == 1
    assert got == [e]
    await second.close()


async def test_several_processes_on_one_file_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    workers, per_worker = 3, 100
    start_at = str(time.time() + 3)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            str(path),
            f"w{w}",
            str(per_worker),
            start_at,
            stderr=subprocess.PIPE,
        )
        for w in range(workers)
    ]
    results = await asyncio.gather(*(p.communicate() for p in procs))
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err.decode()
    store = SqliteStore(path)
    final = await store.collection("counters").get("shared")
    await store.close()
    assert final is not None
    assert final.data["count"] == workers * per_worker
    assert final.data["by"] == {f"w{w}": per_worker for w in range(workers)}


async def test_two_stores_in_one_process_share_the_file(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    one, two = SqliteStore(path), SqliteStore(path)
    await one.collection("counters").create("c", {"count": 0})

    def bump(data: dict[str, Any]) -> None:
        data["count"] += 1

    await asyncio.gather(
        *(
            update(s.collection("counters"), "c", bump, caused_by=f"{n}-{i}", retries=500)
            for i in range(15)
            for n, s in (("one", one), ("two", two))
        )
    )
    final = await two.collection("counters").get("c")
    assert final is not None and final.data["count"] == 30
    await one.close()
    await two.close()
