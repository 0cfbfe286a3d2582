"""The leader lease: one holder at a time, taken over only after it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from berth_common.clock import Clock
from berth_common.store.lease import Lease
from berth_common.store.memory import MemoryStore


class FakeClock(Clock):
    def __init__(self) -> None:
        self.t = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.t


async def test_one_holder_until_expiry() -> None:
    store, clock = MemoryStore(), FakeClock()
    col = store.collection("dr_leases")
    a = Lease(col, "prober", holder="a", ttl=10, clock=clock)
    b = Lease(col, "prober", holder="b", ttl=10, clock=clock)
    assert await a.acquire()
    assert not await b.acquire()
    clock.t += timedelta(seconds=5)
    assert await a.acquire()  # renewal pushes the expiry
    clock.t += timedelta(seconds=9)
    assert not await b.acquire()
    clock.t += timedelta(seconds=2)  # a stopped renewing: expired
    assert await b.acquire()
    assert not await a.acquire()
    await b.release()
    assert await a.acquire()


async def test_racing_takers_get_one_winner() -> None:
    import asyncio

    store, clock = MemoryStore(), FakeClock()
    col = store.collection("dr_leases")
    leases = [Lease(col, "prober", holder=f"h{i}", ttl=10, clock=clock) for i in range(8)]
    won = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(won) == 1
