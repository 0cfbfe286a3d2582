"""OutboxRelay over every adapter: events written with state get published, in order,
even when the publisher fails or the relay dies between the write and the publish."""

from __future__ import annotations

import asyncio
import time

import pytest
from berth_common.events import Envelope
from berth_common.store import OutboxRelay, Store, update


def evt(n: int | str) -> Envelope:
    return Envelope(source="test/outbox", type="berth.test.happened.v1", data={"n": n})


class Collecting:
    """A publisher that records what it got and can be told to fail."""

    def __init__(self, *, fail_first: int = 0, fail_on: set[str] | None = None) -> None:
        self.got: list[Envelope] = []
        self.fail_first = fail_first
        self.fail_on = fail_on or set()
        self.attempts = 0
        self.published = asyncio.Event()

    async def __call__(self, envelope: Envelope) -> None:
        self.attempts += 1
        if self.fail_first > 0:
            self.fail_first -= 1
            raise ConnectionError("bus unavailable")
        if envelope.id in self.fail_on:
            self.fail_on.discard(envelope.id)
            raise ConnectionError("bus unavailable")
        self.got.append(envelope)
        self.published.set()


async def test_crash_between_write_and_publish_still_publishes(store: Store) -> None:
    things, others = store.collection("things"), store.collection("others")
    e1, e2, e3 = evt(1), evt(2), evt("gone")
    await things.create("a", {"v": 1}, events=[e1, e2])
    await others.create("b", {"v": 1})
    await others.delete("b", events=[e3])

    # The first relay never gets an event out (the process dies before publishing).
    broken = Collecting(fail_first=10**6)
    first = OutboxRelay(store, broken, collections=["things", "others"], poll_interval=0.05)
    assert await first.publish_pending() == 0
    assert first.pending_count() == 3 and broken.attempts >= 1
    del first

    # A fresh relay (the restarted process) finds them in the store and publishes them.
    sink = Collecting()
    relay = OutboxRelay(store, sink, collections=["things", "others"], poll_interval=0.05)
    assert await relay.publish_pending() == 3
    assert [e.id for e in sink.got] == [e1.id, e2.id, e3.id]
    assert sink.got[0] == e1  # the envelope survives the round trip through the store
    assert await things.with_outbox() == [] and await others.with_outbox() == []
    assert relay.pending_count() == 0 and relay.lag_seconds() == 0.0
    got = await things.get("a")
    assert got is not None and got.outbox == () and got.data == {"v": 1}
    assert await others.get("b") is None
    assert await others.with_outbox() == []  # the tombstone was purged after publishing


async def test_a_failed_publish_keeps_the_rest_in_order_for_the_next_round(store: Store) -> None:
    things = store.collection("things")
    e1, e2, e3 = evt(1), evt(2), evt(3)
    await things.create("a", {}, events=[e1, e2, e3])
    sink = Collecting(fail_on={e2.id})
    relay = OutboxRelay(store, sink, collections=["things"], poll_interval=0.05)
    assert await relay.publish_pending() == 1
    assert [e.id for e in sink.got] == [e1.id]  # e3 did not overtake e2
    [rec] = await things.with_outbox()
    assert [e["id"] for e in rec.outbox] == [e2.id, e3.id]
    assert await relay.publish_pending() == 2
    assert [e.id for e in sink.got] == [e1.id, e2.id, e3.id]


async def test_lag_and_pending_count(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {}, events=[evt(1), evt(2)])
    await things.create("b", {}, events=[evt(3)])
    await asyncio.sleep(0.3)
    sink = Collecting(fail_first=10**6)
    relay = OutboxRelay(store, sink, collections=["things"], poll_interval=0.05)
    assert relay.lag_seconds() == 0.0  # nothing observed yet
    await relay.publish_pending()
    assert relay.pending_count() == 3
    assert 0.3 <= relay.lag_seconds() < 30
    sink.fail_first = 0
    await relay.publish_pending()
    assert relay.pending_count() == 0 and relay.lag_seconds() == 0.0


async def test_flush_drains_more_than_one_batch(store: Store) -> None:
    things = store.collection("things")
    sent = [evt(i) for i in range(23)]
    for i, e in enumerate(sent):
        await things.create(f"k{i:02d}", {}, events=[e])
    sink = Collecting()
    relay = OutboxRelay(store, sink, collections=["things"], poll_interval=60, batch_size=5)
    assert await relay.flush(30) is True
    assert sorted(e.id for e in sink.got) == sorted(e.id for e in sent)
    assert await things.with_outbox() == []


async def test_flush_gives_up_at_its_timeout_while_the_bus_is_down(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {}, events=[evt(1)])
    relay = OutboxRelay(store, Collecting(fail_first=10**6), collections=["things"], poll_interval=0.05)
    began = time.monotonic()
    assert await relay.flush(0.5) is False
    assert time.monotonic() - began < 5
    assert len(await things.with_outbox()) == 1


async def test_wake_publishes_without_waiting_for_the_poll(store: Store) -> None:
    things = store.collection("things")
    sink = Collecting()
    relay = OutboxRelay(store, sink, collections=["things"], poll_interval=60)
    relay.start()
    try:
        await asyncio.sleep(0.1)  # the first round ran and found nothing
        e = evt("now")
        await things.create("a", {}, events=[e])
        relay.wake()
        await asyncio.wait_for(sink.published.wait(), 5)
        assert [x.id for x in sink.got] == [e.id]
    finally:
        await relay.stop()


async def test_the_loop_backs_off_and_recovers_after_failures(store: Store) -> None:
    things = store.collection("things")
    e = evt(1)
    await things.create("a", {}, events=[e])
    sink = Collecting(fail_first=3)
    relay = OutboxRelay(store, sink, collections=["things"], poll_interval=0.02, max_backoff=0.2)
    relay.start()
    try:
        await asyncio.wait_for(sink.published.wait(), 10)
        assert [x.id for x in sink.got] == [e.id] and sink.attempts == 4
    finally:
        await relay.stop()


async def test_update_helper_events_reach_the_relay(store: Store) -> None:
    counters = store.collection("counters")

    def bump(data: dict[str, int]) -> None:
        data["count"] = data.get("count", 0) + 1

    for i in range(3):
        await update(
            counters,
            "c",
            bump,
            caused_by=f"cmd-{i}",
            initial={},
            events_for=lambda before, after: [evt(after["count"])],
        )
    sink = Collecting()
    assert await OutboxRelay(store, sink, collections=["counters"]).publish_pending() == 3
    assert [e.data["n"] for e in sink.got] == [1, 2, 3]


def test_relay_rejects_bad_options(store: Store) -> None:
    with pytest.raises(ValueError, match="collections"):
        OutboxRelay(store, Collecting(), collections=[])
    with pytest.raises(ValueError, match="collections"):
        OutboxRelay(store, Collecting(), collections="things")
    with pytest.raises(ValueError, match="poll_interval"):
        OutboxRelay(store, Collecting(), collections=["things"], poll_interval=0)
