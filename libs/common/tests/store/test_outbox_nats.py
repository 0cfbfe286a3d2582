"""The outbox against a real nats-server: a relay that crashes after publishing but
before clearing publishes again, and JetStream's duplicate window (Nats-Msg-Id = event
id) keeps one copy."""

from __future__ import annotations

import uuid

import nats
from berth_common.events import Envelope
from berth_common.store import OutboxRelay, SqliteStore
from berth_testkit.nats import NatsServer
from nats.js.api import StreamConfig


async def test_republish_after_a_crash_before_clear_is_stored_once(nats_server: NatsServer, tmp_path: object) -> None:
    suffix = uuid.uuid4().hex[:8]
    stream, subject = f"OUTBOX_{suffix}", f"test.outbox.{suffix}"
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=stream, subjects=[subject], duplicate_window=120.0))

    async def publish(envelope: Envelope) -> None:
        ack = await js.publish(subject, envelope.to_json(), headers={"Nats-Msg-Id": envelope.id})
        assert ack.stream == stream

    store = SqliteStore(tmp_path / "berth.db")
    things = store.collection("things")
    e1 = Envelope(source="test/outbox", type="berth.test.happened.v1", data={"n": 1})
    e2 = Envelope(source="test/outbox", type="berth.test.happened.v1", data={"n": 2})
    await things.create("a", {"v": 1}, events=[e1, e2])

    # The first relay publishes both events and "crashes" before clear_outbox.
    for raw in (await things.with_outbox())[0].outbox:
        await publish(Envelope.model_validate(raw))
    [still] = await things.with_outbox()
    assert len(still.outbox) == 2

    # The restarted relay publishes them again; JetStream drops the duplicates.
    relay = OutboxRelay(store, publish, collections=["things"])
    assert await relay.publish_pending() == 2
    assert await things.with_outbox() == []
    info = await js.stream_info(stream)
    assert info.state.messages == 2

    sub = await js.pull_subscribe(subject, durable=f"check_{suffix}", stream=stream)
    msgs = await sub.fetch(2, timeout=5)
    got = [Envelope.from_json(m.data) for m in msgs]
    assert [g.id for g in got] == [e1.id, e2.id] and got == [e1, e2]
    assert [m.headers.get("Nats-Msg-Id") if m.headers else None for m in msgs] == [e1.id, e2.id]
    await js.delete_stream(stream)
    await nc.close()
    await store.close()
