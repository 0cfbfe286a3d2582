"""Publishing, handling, acking, deduplication, retries and dead letters."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from berth_common.bus import COMMANDS, EVENTS, Bus, Context, Poison, Transient
from berth_common.events import Envelope
from prometheus_client import REGISTRY

Wait = Callable[..., Awaitable[None]]


async def consumer_state(bus: Bus, handler: str, stream: str = EVENTS) -> Any:
    return await bus.js.consumer_info(stream, bus.durable_name(handler))


async def test_publish_handle_ack_and_duplicate_stored_once(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    seen: list[tuple[str, int, int]] = []

    @bus.handler(kit.Ping, concurrency=4)
    async def on_ping(msg: Any, ctx: Context) -> None:
        seen.append((ctx.envelope.id, msg.n, ctx.delivery))

    await bus.start()
    env = kit.registry.envelope(kit.Ping(n=7), source="/test", tenant="t1")
    stored = await bus.publish(env)
    assert stored.id == env.id
    await bus.publish(env)  # the same envelope id again: JetStream must drop it
    await waiter(lambda: len(seen) >= 1, what="the handler")
    await asyncio.sleep(0.5)
    assert seen == [(env.id, 7, 1)]

    info = await bus.js.stream_info(EVENTS, subjects_filter=kit.ping_subject)
    assert info.state.subjects == {kit.ping_subject: 1}
    state = await consumer_state(bus, "on_ping")
    assert (state.num_pending, state.num_ack_pending, state.num_redelivered) == (0, 0, 0)
    assert state.config.filter_subject == kit.ping_subject
    assert state.name == f"{kit.service()}-on_ping"

    handled = REGISTRY.get_sample_value(
        "berth_messages_handled_total", {"service": kit.service(), "handler": "on_ping"}
    )
    assert handled == 1.0
    published = REGISTRY.get_sample_value("berth_messages_published_total", {"service": kit.service()})
    assert published == 2.0


async def test_emit_wraps_payload_and_context_carries_causation(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    follow_ups: list[dict[str, Any]] = []

    @bus.handler(kit.Ping)
    async def on_ping(msg: Any, ctx: Context) -> None:
        follow_ups.append(ctx.caused(subject="x"))

    await bus.start()
    env = await bus.emit(kit.Ping(n=1), tenant="acme", subject="clusters/c1")
    assert (env.type, env.tenant, env.subject, env.source) == (
        kit.ping_type,
        "acme",
        "clusters/c1",
        f"/berth/{kit.service()}",
    )
    await waiter(lambda: bool(follow_ups), what="the handler")
    assert follow_ups == [{"tenant": "acme", "correlationid": env.id, "causationid": env.id, "subject": "x"}]


async def test_publish_rejects_invalid_data_before_sending(kit: Any) -> None:
    bus: Bus = await kit.connected()
    bad = Envelope(source="/test", type=kit.ping_type, data={"n": "not-a-number"})
    try:
        await bus.publish(bad)
    except ValueError as exc:
        assert "n:" in str(exc)
    else:
        raise AssertionError("publish accepted data its consumers would reject")


async def test_poison_messages_are_dead_lettered_and_do_not_block(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    handled: list[int] = []

    @bus.handler(kit.Ping, concurrency=1, max_deliver=5)
    async def on_ping(msg: Any, ctx: Context) -> None:
        if msg.n == 1:
            raise Poison("n=1 can never work")
        handled.append(msg.n)

    await bus.start()
    # Invalid data for the type, and bytes that are not even UTF-8, published around the checks.
    bad = Envelope(source="/test", type=kit.ping_type, data={"n": "x"}).to_json()
    await bus.js.publish(kit.ping_subject, bad)
    await bus.js.publish(kit.ping_subject, b"\xff\xfe not json")
    for n in (1, 2, 3):
        await bus.emit(kit.Ping(n=n), tenant="t1")
    await waiter(lambda: handled == [2, 3], what="messages behind the poison ones")

    async def three_letters() -> bool:
        return len(await bus.dead_letters(service=kit.service())) >= 3

    await waiter(three_letters, what="three dead letters")
    letters = await bus.dead_letters(service=kit.service())
    assert [d.error.split(":")[0] for d in letters] == ["rejected", "rejected", "poison"]
    invalid, garbage, poison = letters
    assert "invalid data for" in invalid.error and "n:" in invalid.error
    assert invalid.original_bytes() == bad and not invalid.data_base64
    assert garbage.data_base64 and garbage.original_bytes() == b"\xff\xfe not json"
    assert poison.error == "poison: n=1 can never work"
    for d in letters:
        assert d.delivery_count == 1
        assert (d.service, d.consumer, d.subject) == (
            kit.service(),
            f"{kit.service()}-on_ping",
            kit.ping_subject,
        )
    assert [d.stream_seq for d in letters] == sorted(d.stream_seq for d in letters)
    state = await consumer_state(bus, "on_ping")
    assert (state.num_pending, state.num_ack_pending) == (0, 0)
    dead = REGISTRY.get_sample_value(
        "berth_messages_dead_lettered_total", {"service": kit.service(), "handler": "on_ping"}
    )
    assert dead == 3.0


async def test_failing_handler_retries_until_max_deliver_then_dead_letters(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    attempts: list[int] = []
    handled: list[int] = []

    @bus.handler(kit.Ping, concurrency=2, max_deliver=3, retry_base=0.1, retry_max=0.2)
    async def on_ping(msg: Any, ctx: Context) -> None:
        if msg.n == 0:
            attempts.append(ctx.delivery)
            raise RuntimeError("database on fire")
        handled.append(msg.n)

    await bus.start()
    for n in range(4):
        await bus.emit(kit.Ping(n=n), tenant="t1")
    await waiter(lambda: sorted(handled) == [1, 2, 3], what="the healthy messages")

    async def lettered() -> bool:
        return bool(await bus.dead_letters(service=kit.service()))

    await waiter(lettered, what="the dead letter")
    assert attempts == [1, 2, 3]
    (letter,) = await bus.dead_letters(service=kit.service())
    assert letter.delivery_count == 3
    assert "RuntimeError: database on fire" in letter.error and "max_deliver" in letter.error
    failed = REGISTRY.get_sample_value(
        "berth_messages_failed_total",
        {"service": kit.service(), "handler": "on_ping", "reason": "error"},
    )
    assert failed == 3.0


async def test_transient_is_redelivered_with_backoff_and_handled_once(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    times: list[float] = []
    done: list[int] = []

    @bus.handler(kit.Ping, max_deliver=5, retry_base=0.4, retry_max=5)
    async def on_ping(msg: Any, ctx: Context) -> None:
        times.append(time.monotonic())
        if ctx.delivery < 3:
            raise Transient("registry not reachable yet")
        done.append(ctx.delivery)

    await bus.start()
    await bus.emit(kit.Ping(n=1), tenant="t1")
    await waiter(lambda: bool(done), what="the third delivery")
    await asyncio.sleep(0.3)
    assert done == [3]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # backoff: 0.4 s after the first failure, 0.8 s after the second (minus 10% jitter)
    assert gaps[0] >= 0.35 and gaps[1] >= 0.7, gaps
    state = await consumer_state(bus, "on_ping")
    assert state.num_ack_pending == 0
    assert await bus.dead_letters(service=kit.service()) == []


async def test_long_handler_is_kept_alive_by_in_progress(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    deliveries: list[int] = []

    @bus.handler(kit.Ping, ack_wait=1.5)
    async def on_ping(msg: Any, ctx: Context) -> None:
        deliveries.append(ctx.delivery)
        await asyncio.sleep(4)  # well past ack_wait: the automatic in-progress keeps it ours

    await bus.start()
    await bus.emit(kit.Ping(n=1), tenant="t1")
    await waiter(lambda: bool(deliveries), what="the delivery")
    await asyncio.sleep(5)
    assert deliveries == [1]
    state = await consumer_state(bus, "on_ping")
    assert (state.num_ack_pending, state.num_redelivered) == (0, 0)


async def test_commands_use_the_work_queue_and_are_removed_once_acked(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    got: list[int] = []

    @bus.handler(kit.Do)
    async def on_do(cmd: Any, ctx: Context) -> None:
        got.append(cmd.n)

    await bus.start()
    await bus.emit(kit.Do(n=5), tenant="t1")
    await waiter(lambda: got == [5], what="the command")

    async def removed() -> bool:
        info = await bus.js.stream_info(COMMANDS, subjects_filter=kit.do_subject)
        return not info.state.subjects

    await waiter(removed, what="the work-queue stream to drop the acked command")


async def test_raw_subject_handler_gets_envelopes(kit: Any, waiter: Wait) -> None:
    bus: Bus = await kit.connected()
    got: list[Envelope] = []

    @bus.handler(f"berth.evt.{kit.tag}.>")
    async def everything(env: Envelope, ctx: Context) -> None:
        got.append(env)

    await bus.start()
    sent = await bus.emit(kit.Ping(n=3), tenant="t1")
    await waiter(lambda: bool(got), what="the raw handler")
    assert got[0].id == sent.id and got[0].data == {"n": 3, "note": ""}


async def test_events_follows_facts_from_a_stream_sequence(kit: Any) -> None:
    bus: Bus = await kit.connected()
    sent = [await bus.emit(kit.Ping(n=n), tenant="t1") for n in range(3)]
    info = await bus.js.stream_info(EVENTS, subjects_filter=kit.ping_subject)
    first = info.state.last_seq - 2
    got: list[tuple[int, str]] = []

    async def follow() -> None:
        async for seq, env in bus.events(subjects=[kit.ping_subject], start_seq=first):
            got.append((seq, env.id))
            if len(got) == 4:
                return

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.5)
    late = await bus.emit(kit.Ping(n=9), tenant="t1")
    await asyncio.wait_for(task, timeout=10)
    assert [i for _, i in got] == [e.id for e in sent] + [late.id]
    assert [s for s, _ in got][:3] == [first, first + 1, first + 2]
