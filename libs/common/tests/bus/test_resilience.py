"""Crashes, replicas and NATS restarts: nothing is lost, every effect applies once."""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from berth_common.bus import EVENTS, Bus, Context
from berth_testkit.nats import NatsServer
from berth_testkit.procs import Proc

Wait = Callable[..., Awaitable[None]]
CHILD = Path(__file__).with_name("crash_child.py")


def child(kit: Any, tmp: Path, name: str, *, block_id: str = "") -> Proc:
    argv = [sys.executable, str(CHILD), "--url", kit.url, "--tag", kit.tag]
    argv += ["--db", str(tmp / "effects.db"), "--ready", str(tmp / f"{name}.ready")]
    if block_id:
        argv += ["--block-id", block_id]
    proc = Proc(name, argv, log_dir=tmp).start()
    proc.wait_ready(lambda: (tmp / f"{name}.ready").exists(), timeout=30, what="(bus started)")
    return proc


async def test_consumer_killed_mid_handler_loses_nothing(kit: Any, tmp_path: Path, waiter: Wait) -> None:
    bus: Bus = await kit.connected("publisher")
    envs = [kit.registry.envelope(kit.Ping(n=n), source="/test") for n in range(6)]
    victim = envs[2].id
    first = child(kit, tmp_path, "first", block_id=victim)
    try:
        for env in envs:
            await bus.publish(env)
        blocked = tmp_path / "first.blocked"
        await waiter(blocked.exists, timeout=20, what="the first process to block mid-handler")
        first.kill()
        assert not first.running
    finally:
        first.stop()

    db = sqlite3.connect(tmp_path / "effects.db")
    assert (victim,) not in db.execute("SELECT id FROM effects").fetchall()

    second = child(kit, tmp_path, "second")
    try:
        ids = {e.id for e in envs}

        def all_applied() -> bool:
            return {r[0] for r in db.execute("SELECT id FROM effects")} == ids

        await waiter(all_applied, timeout=30, what="every effect, including the victim's")
        await asyncio.sleep(2.5)  # past ack_wait: a missing ack would show as redelivery
        effects = db.execute("SELECT id, COUNT(*) FROM effects GROUP BY id").fetchall()
        assert sorted(effects) == sorted((i, 1) for i in ids)
        attempts = db.execute("SELECT pid, delivery FROM attempts WHERE id = ? ORDER BY delivery", (victim,)).fetchall()
        assert [d for _, d in attempts] == [1, 2]
        assert attempts[0][0] != attempts[1][0]  # redelivered to the second process
        info = await bus.js.consumer_info(EVENTS, f"{kit.service()}-on_ping")
        assert (info.num_pending, info.num_ack_pending) == (0, 0)
    finally:
        second.stop()
        db.close()


async def test_two_replicas_share_the_durable(kit: Any, waiter: Wait) -> None:
    handled: list[tuple[str, str]] = []
    replicas: list[Bus] = [await kit.connected(), await kit.connected()]
    for name, bus in zip(("a", "b"), replicas, strict=True):

        def make(replica: str) -> Any:
            async def on_ping(msg: Any, ctx: Context) -> None:
                handled.append((replica, ctx.envelope.id))
                await asyncio.sleep(0.005)

            return on_ping

        bus.handler(kit.Ping, concurrency=4)(make(name))
        await bus.start()

    envs = [kit.registry.envelope(kit.Ping(n=n), source="/test") for n in range(300)]
    await replicas[0].publish_many(envs)
    await waiter(lambda: len(handled) >= 300, timeout=30, what="all 300 events")
    await asyncio.sleep(0.5)
    counts = collections.Counter(i for _, i in handled)
    assert len(handled) == 300 and set(counts) == {e.id for e in envs}
    by_replica = collections.Counter(r for r, _ in handled)
    assert by_replica["a"] > 0 and by_replica["b"] > 0, by_replica


async def test_nats_restart_under_load_loses_nothing(
    isolated_kit: Any, nats_isolated: NatsServer, waiter: Wait
) -> None:
    kit = isolated_kit
    applied: set[str] = set()  # the handler's idempotency record: effects keyed by event id
    deliveries: collections.Counter[str] = collections.Counter()
    consumer: Bus = await kit.connected("consumer")

    @consumer.handler(kit.Ping, concurrency=8)
    async def on_ping(msg: Any, ctx: Context) -> None:
        deliveries[ctx.envelope.id] += 1
        applied.add(ctx.envelope.id)

    await consumer.start()
    publisher: Bus = await kit.connected("publisher")
    n = 400
    envs = [kit.registry.envelope(kit.Ping(n=i), source="/test") for i in range(n)]
    retries = 0

    async def publish_all() -> None:
        nonlocal retries
        for env in envs:
            while True:
                try:
                    await publisher.publish(env, timeout=1.0)
                    break
                except Exception:
                    retries += 1
                    await asyncio.sleep(0.1)

    task = asyncio.create_task(publish_all())
    await waiter(lambda: len(applied) >= n // 4, timeout=30, what="a quarter handled")
    await asyncio.to_thread(nats_isolated.restart)
    await asyncio.wait_for(task, timeout=60)
    await waiter(lambda: len(applied) == n, timeout=60, what="every event after the restart")
    assert applied == {e.id for e in envs}
    info = await publisher.js.stream_info(EVENTS, subjects_filter=kit.ping_subject)
    assert info.state.subjects == {kit.ping_subject: n}, "a retried publish was stored twice"
    assert consumer.connected and publisher.connected
    redelivered = sum(deliveries.values()) - n
    print(f"restart: {retries} publish retries, {redelivered} redeliveries for {n} events")
