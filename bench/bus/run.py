"""Benchmark: libs/common's Bus against plain nats-py JetStream, in one run.

    uv run python bench/bus/run.py [--events 20000] [--rate 1000] [--seconds 10]

Starts its own nats-server (file storage), then for each mode publishes N events and
consumes them (publish awaited; pull consume; ack), first with plain nats-py and then
through the Bus, and prints events/s for both and the ratio. Two publishing modes:
one awaited publish at a time, and batches whose acks are awaited together
(``js.publish_async`` / ``Bus.publish_many``). Last, it drives the Bus at a steady rate
and prints p50/p99 end-to-end latency (publish call to handler start).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
from berth_common.bus import Bus, Context, StreamConfig
from berth_common.events import Envelope, MessageSpec, Registry
from berth_testkit.nats import NatsServer
from nats.aio.msg import Msg
from nats.js import api
from pydantic import BaseModel

BATCH = 500  # events per publish_many / publish_async batch
GOAL_RATIO = 0.70
GOAL_P99_MS = 10.0


class BenchEvent(BaseModel):
    n: int
    sent_ns: int
    cluster: str = "c-0001"
    note: str = "a fact of a typical size for the Berth event catalogue"


def make_registry(tag: str) -> tuple[Registry, str]:
    reg = Registry()
    subject = f"berth.evt.{tag}.happened"
    reg.register(MessageSpec(f"berth.{tag}.happened.v1", "event", subject, BenchEvent, ""))
    return reg, subject


def tag() -> str:
    return "b" + uuid.uuid4().hex[:8]


async def raw_run(url: str, n: int, *, batched: bool) -> float:
    """Plain nats-py: publish (awaited) + pull consume + ack. Returns events/s."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    t = tag()
    subject = f"raw.{t}"
    await js.add_stream(
        name=f"RAW_{t.upper()}",
        subjects=[subject],
        storage=api.StorageType.FILE,
        duplicate_window=120,
    )
    reg, _ = make_registry(t)
    sub = await js.pull_subscribe(subject, durable=f"raw-{t}")
    done = asyncio.Event()
    consumed = 0

    async def consume() -> None:
        nonlocal consumed
        while consumed < n:
            try:
                msgs = await sub.fetch(batch=100, timeout=1)
            except nats.errors.TimeoutError:
                continue
            for m in msgs:
                await m.ack()
            consumed += len(msgs)
        done.set()

    def body(i: int) -> tuple[bytes, dict[str, str]]:
        env = reg.envelope(BenchEvent(n=i, sent_ns=time.perf_counter_ns()), source="/bench")
        return env.to_json(), {"Nats-Msg-Id": env.id}

    consumer = asyncio.create_task(consume())
    start = time.perf_counter()
    if batched:
        for lo in range(0, n, BATCH):
            futures = []
            for i in range(lo, min(n, lo + BATCH)):
                data, headers = body(i)
                futures.append(await js.publish_async(subject, data, headers=headers))
            await asyncio.gather(*futures)
    else:
        for i in range(n):
            data, headers = body(i)
            await js.publish(subject, data, headers=headers)
    await done.wait()
    elapsed = time.perf_counter() - start
    await consumer
    await nc.close()
    return n / elapsed


async def bus_run(url: str, n: int, *, batched: bool) -> float:
    """The same through the Bus: publish/publish_many + a declared handler. Events/s."""
    t = tag()
    reg, _ = make_registry(t)
    bus = Bus(service=f"bench-{t}", registry=reg, streams=StreamConfig(events_max_age=3600))
    handled = 0
    done = asyncio.Event()

    @bus.handler(BenchEvent, concurrency=100)
    async def on_event(ev: BenchEvent, ctx: Context) -> None:
        nonlocal handled
        handled += 1
        if handled >= n:
            done.set()

    await bus.connect(servers=[url])
    await bus.provision()
    await bus.start()

    def env(i: int) -> Envelope:
        return reg.envelope(BenchEvent(n=i, sent_ns=time.perf_counter_ns()), source="/bench")

    start = time.perf_counter()
    if batched:
        for lo in range(0, n, BATCH):
            await bus.publish_many([env(i) for i in range(lo, min(n, lo + BATCH))])
    else:
        for i in range(n):
            await bus.publish(env(i))
    await done.wait()
    elapsed = time.perf_counter() - start
    await bus.drain(timeout=5)
    await bus.close()
    return n / elapsed


async def latency_run(url: str, *, rate: int, seconds: float) -> list[float]:
    """Publish at a steady rate through the Bus; end-to-end latencies in ms."""
    t = tag()
    reg, _ = make_registry(t)
    bus = Bus(service=f"bench-{t}", registry=reg, streams=StreamConfig(events_max_age=3600))
    latencies: list[float] = []
    warmup = rate // 2

    @bus.handler(BenchEvent, concurrency=100)
    async def on_event(ev: BenchEvent, ctx: Context) -> None:
        if ev.n >= warmup:
            latencies.append((time.perf_counter_ns() - ev.sent_ns) / 1e6)

    await bus.connect(servers=[url])
    await bus.provision()
    await bus.start()
    total = warmup + int(rate * seconds)
    pending: set[asyncio.Task[Envelope]] = set()
    start = time.perf_counter()
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        e = reg.envelope(BenchEvent(n=i, sent_ns=time.perf_counter_ns()), source="/bench")
        task = asyncio.create_task(bus.publish(e))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    await _settle(latencies, total - warmup)
    await bus.drain(timeout=5)
    await bus.close()
    return latencies


async def raw_latency_run(url: str, *, rate: int, seconds: float) -> list[float]:
    """The anchor: plain nats-py push consumer (manual ack) at the same steady rate."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    t = tag()
    subject = f"raw.{t}"
    await js.add_stream(name=f"RAW_{t.upper()}", subjects=[subject], storage=api.StorageType.FILE)
    reg, _ = make_registry(t)
    latencies: list[float] = []
    warmup = rate // 2

    async def cb(msg: Msg) -> None:
        ev = BenchEvent.model_validate(Envelope.from_json(msg.data).data)
        if ev.n >= warmup:
            latencies.append((time.perf_counter_ns() - ev.sent_ns) / 1e6)
        await msg.ack()

    sub = await js.subscribe(subject, durable=f"raw-{t}", manual_ack=True, cb=cb)
    total = warmup + int(rate * seconds)
    pending: set[asyncio.Task[api.PubAck]] = set()
    start = time.perf_counter()
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        e = reg.envelope(BenchEvent(n=i, sent_ns=time.perf_counter_ns()), source="/bench")
        task = asyncio.create_task(js.publish(subject, e.to_json(), headers={"Nats-Msg-Id": e.id}))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    await _settle(latencies, total - warmup)
    await sub.unsubscribe()
    await nc.close()
    return latencies


async def _settle(latencies: list[float], expected: int) -> None:
    """Give the last in-flight events up to 10 s to arrive."""
    for _ in range(200):
        if len(latencies) >= expected:
            return
        await asyncio.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def best_of(runs: int, f: Callable[..., Awaitable[float]], url: str, n: int, *, batched: bool) -> float:
    return max([await f(url, n, batched=batched) for _ in range(runs)])


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--rate", type=int, default=1_000)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--runs", type=int, default=1, help="repeat each throughput run, keep best")
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="berth-bench-") as tmp:
        srv = NatsServer(Path(tmp) / "nats").start()
        try:
            url = srv.url
            await raw_run(url, 2_000, batched=False)  # warm the server and the interpreter
            await bus_run(url, 2_000, batched=False)
            n = args.events
            print(f"throughput: {n} events, publish + pull consume + ack, file storage")
            ok = True
            for batched, label in ((False, "awaited publish"), (True, f"batches of {BATCH}")):
                raw = await best_of(args.runs, raw_run, url, n, batched=batched)
                bus = await best_of(args.runs, bus_run, url, n, batched=batched)
                ratio = bus / raw
                ok = ok and (not batched or ratio >= GOAL_RATIO)
                print(f"  {label:<18} nats-py {raw:>8.0f} ev/s   Bus {bus:>8.0f} ev/s   ratio {ratio:.2f}")
            print(f"end-to-end latency at {args.rate} ev/s for {args.seconds:.0f}s:")
            raw_lat = await raw_latency_run(url, rate=args.rate, seconds=args.seconds)
            lat = await latency_run(url, rate=args.rate, seconds=args.seconds)
            for label, values in (("nats-py push (anchor)", raw_lat), ("Bus", lat)):
                print(
                    f"  {label:<22} {len(values)} events  p50 {statistics.median(values):.2f} ms"
                    f"  p99 {percentile(values, 0.99):.2f} ms  max {max(values):.2f} ms"
                )
            p99 = percentile(lat, 0.99)
            print(
                f"goals: ratio >= {GOAL_RATIO:.0%} ({'met' if ok else 'NOT met'}), "
                f"p99 < {GOAL_P99_MS:.0f} ms ({'met' if p99 < GOAL_P99_MS else 'NOT met'})"
            )
        finally:
            srv.stop()


if __name__ == "__main__":
    asyncio.run(main())
