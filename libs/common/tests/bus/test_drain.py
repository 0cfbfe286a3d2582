"""Drain: stop taking work, finish what is in flight, ack it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from berth_common.bus import EVENTS, Bus, Context

Wait = Callable[..., Awaitable[None]]


async def test_drain_waits_for_the_slow_handler_and_acks(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    started: list[str] = []
    finished: list[str] = []

    @bus.handler(kit.Ping, ack_wait=2)
    async def on_ping(msg: Any, ctx: Context) -> None:
        started.append(ctx.envelope.id)
        await asyncio.sleep(1.5)
        finished.append(ctx.envelope.id)

    await bus.start()
    env = await bus.emit(kit.Ping(n=1), tenant="t1")
    await waiter(lambda: bool(started), what="the slow handler to start")
    await bus.drain(timeout=10)
    assert finished == [env.id]
    await bus.emit(kit.Ping(n=2), tenant="t1")  # after drain: not taken by this replica
    await asyncio.sleep(3)  # past ack_wait: an unacked message would be redelivered
    assert started == [env.id]

    other: Bus = await kit.connected("observer")
    info = await other.js.consumer_info(EVENTS, bus.durable_name("on_ping"))
    assert info.num_ack_pending == 0 and info.num_redelivered == 0
    assert info.num_pending == 1  # the second event waits for the next replica

    successor: Bus = await kit.connected()
    after: list[tuple[int, int]] = []

    @successor.handler(kit.Ping, ack_wait=2, name="on_ping")  # the same durable
    async def on_ping_again(msg: Any, ctx: Context) -> None:
        after.append((msg.n, ctx.delivery))

    await successor.start()
    await waiter(lambda: bool(after), what="the successor replica")
    await asyncio.sleep(0.3)
    assert after == [(2, 1)]
