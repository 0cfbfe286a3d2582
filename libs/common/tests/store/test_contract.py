"""The one contract every store adapter keeps: memory, SQLite and MongoDB (FerretDB)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from berth_common.events import Envelope
from berth_common.store import (
    APPLIED_HISTORY,
    AlreadyExists,
    Conflict,
    NotFound,
    Store,
    update,
)


def evt(n: int | str, **data: Any) -> Envelope:
    return Envelope(source="test/store", type="berth.test.happened.v1", data={"n": n, **data})


async def test_create_get_round_trip(store: Store) -> None:
    things = store.collection("things")
    data = {"name": "a", "spec": {"replicas": 3, "labels": {"tier": "web"}}, "tags": ["x", "y"]}
    created = await things.create("a", data)
    assert created.version == 1 and created.data == data and not created.deleted
    data["name"] = "mutated after write"  # the store keeps its own copy
    got = await things.get("a")
    assert got is not None
    assert got.key == "a" and got.version == 1
    assert got.data == {"name": "a", "spec": {"replicas": 3, "labels": {"tier": "web"}}, "tags": ["x", "y"]}
    got.data["name"] = "mutated after read"
    again = await things.get("a")
    assert again is not None and again.data["name"] == "a"
    assert await things.get("missing") is None
    assert "things" in await store.collections()


async def test_keys_with_dots_dollars_and_percents_round_trip(store: Store) -> None:
    things = store.collection("things")
    data = {
        "labels": {"app.kubernetes.io/name": "web", "$odd": "x", "100%": "y", "a%2Eb": "z"},
        "items": [{"k.v": 1}],
        "tier": "web",
    }
    e = evt(1, labels={"app.kubernetes.io/name": "web"})
    await things.create("a", data, events=[e])
    got = await things.get("a")
    assert got is not None and got.data == data
    assert Envelope.model_validate(got.outbox[0]) == e
    assert [r.key for r in await things.list(where={"tier": "web"})] == ["a"]


async def test_collections_are_separate(store: Store) -> None:
    await store.collection("left").create("k", {"side": "left"})
    assert await store.collection("right").get("k") is None
    await store.collection("right").create("k", {"side": "right"})
    left = await store.collection("left").get("k")
    assert left is not None and left.data == {"side": "left"}


async def test_create_twice_is_already_exists(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"v": 1})
    with pytest.raises(AlreadyExists):
        await things.create("a", {"v": 2})
    got = await things.get("a")
    assert got is not None and got.data == {"v": 1} and got.version == 1


async def test_replace_is_compare_and_set(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"v": 1})
    second = await things.replace("a", {"v": 2}, expected_version=1)
    assert second.version == 2 and second.data == {"v": 2}
    with pytest.raises(Conflict) as stale:
        await things.replace("a", {"v": 99}, expected_version=1)
    assert stale.value.expected == 1 and stale.value.actual == 2
    got = await things.get("a")
    assert got is not None and got.data == {"v": 2} and got.version == 2
    with pytest.raises(Conflict) as gone:
        await things.replace("never", {"v": 1}, expected_version=1)
    assert gone.value.actual is None


async def test_delete(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"v": 1})
    await things.create("b", {"v": 1})
    with pytest.raises(Conflict):
        await things.delete("a", expected_version=7)
    assert await things.get("a") is not None
    await things.delete("a", expected_version=1)
    await things.delete("b")
    assert await things.get("a") is None and await things.get("b") is None
    assert await things.list() == [] and await things.count() == 0
    assert await things.with_outbox() == []  # no events: no tombstone left behind
    with pytest.raises(NotFound):
        await things.delete("a")
    with pytest.raises(Conflict):
        await things.replace("a", {"v": 2}, expected_version=1)
    recreated = await things.create("a", {"v": 3})
    assert recreated.version == 1


async def test_list_orders_by_key_and_paginates(store: Store) -> None:
    things = store.collection("things")
    keys = [f"k{i:03d}" for i in range(25)]
    for k in reversed(keys):
        await things.create(k, {"i": int(k[1:])})
    page1 = await things.list(limit=10)
    assert [r.key for r in page1] == keys[:10]
    page2 = await things.list(after=page1[-1].key, limit=10)
    page3 = await things.list(after=page2[-1].key, limit=10)
    assert [r.key for r in page2] == keys[10:20]
    assert [r.key for r in page3] == keys[20:]
    assert await things.list(after=keys[-1]) == []
    assert await things.count() == 25


async def test_where_is_typed_equality_on_data_fields(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"tenant": "t1", "size": 1, "ready": True, "note": None})
    await things.create("b", {"tenant": "t1", "size": 2.5, "ready": False, "note": "set"})
    await things.create("c", {"tenant": "t2", "size": 1.0, "ready": 1})
    await things.create("d", {"tenant": "1", "size": "1"})

    async def keys(**where: Any) -> list[str]:
        return [r.key for r in await things.list(where=where)]

    assert await keys(tenant="t1") == ["a", "b"]
    assert await keys(tenant="t1", size=2.5) == ["b"]
    assert await keys(size=1) == ["a", "c"]  # 1 == 1.0, but never the string "1"
    assert await keys(size="1") == ["d"]
    assert await keys(ready=True) == ["a"]  # true is not 1
    assert await keys(ready=1) == ["c"]
    assert await keys(ready=False) == ["b"]
    # None matches a null or an absent field (MongoDB's rule, kept by every adapter).
    assert await keys(note=None) == ["a", "c", "d"]
    assert await keys(tenant="nobody") == []
    assert await things.count(where={"tenant": "t1"}) == 2
    assert await things.count(where={"size": 1}) == 2
    page = await things.list(where={"tenant": "t1"}, after="a", limit=5)
    assert [r.key for r in page] == ["b"]
    await things.delete("a")
    assert await keys(tenant="t1") == ["b"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.list(where={"a.b": 1}), "where field 'a.b'"),
        (lambda c: c.list(where={"$gt": 1}), "where field '$gt'"),
        (lambda c: c.list(where={"spec": {"x": 1}}), "where['spec']"),
        (lambda c: c.count(where={"tags": ["x"]}), "where['tags']"),
        (lambda c: c.list(limit=0), "limit"),
        (lambda c: c.list(limit=True), "limit"),
        (lambda c: c.get(""), "key"),
        (lambda c: c.create("x", {"bad": {1, 2}}), "things/x: data is not JSON"),
        (lambda c: c.create("x", {"nan": float("nan")}), "things/x: data is not JSON"),
        (lambda c: c.create("x", ["not", "a", "mapping"]), "data must be a mapping"),
        (lambda c: c.replace("x", {}, expected_version=0), "expected_version"),
        (lambda c: c.create("x", {}, events=[{"id": "raw"}]), "events[0]"),
    ],
)
async def test_bad_input_is_rejected_with_the_field_named(store: Store, call: Any, message: str) -> None:
    things = store.collection("things")
    with pytest.raises(ValueError) as err:
        await call(things)
    assert message in str(err.value)
    assert await things.get("x") is None


def test_bad_collection_name_is_rejected(store: Store) -> None:
    for bad in ("", "a.b", "system.users", "$x", "1abc", "a" * 64):
        with pytest.raises(ValueError, match="collection name"):
            store.collection(bad)


async def test_outbox_is_written_with_the_state_and_cleared_by_id(store: Store) -> None:
    things = store.collection("things")
    e1, e2, e3 = evt(1), evt(2), evt(3)
    created = await things.create("a", {"v": 1}, events=[e1, e2])
    assert [e["id"] for e in created.outbox] == [e1.id, e2.id]
    assert created.pending_since is not None
    # The same single write stored state and events: what get returns has both.
    got = await things.get("a")
    assert got is not None and got.data == {"v": 1} and len(got.outbox) == 2
    assert Envelope.model_validate(got.outbox[0]) == e1
    await things.replace("a", {"v": 2}, expected_version=1, events=[e3])
    pending = await things.with_outbox()
    assert [r.key for r in pending] == ["a"]
    assert [e["id"] for e in pending[0].outbox] == [e1.id, e2.id, e3.id]
    await things.clear_outbox("a", [e2.id, "unknown-id"])
    after = await things.get("a")
    assert after is not None
    assert [e["id"] for e in after.outbox] == [e1.id, e3.id]
    assert after.version == 2  # clearing is not a change of state
    await things.clear_outbox("a", [e1.id, e3.id])
    cleared = await things.get("a")
    assert cleared is not None and cleared.outbox == () and cleared.pending_since is None
    assert cleared.data == {"v": 2} and cleared.version == 2
    assert await things.with_outbox() == []
    await things.clear_outbox("missing", [e1.id])  # a no-op, not an error


async def test_with_outbox_is_oldest_first_and_limited(store: Store) -> None:
    things = store.collection("things")
    for key in ("z", "m", "a"):
        await things.create(key, {}, events=[evt(key)])
        await asyncio.sleep(0.01)
    await things.create("quiet", {})
    assert [r.key for r in await things.with_outbox()] == ["z", "m", "a"]
    assert [r.key for r in await things.with_outbox(limit=2)] == ["z", "m"]


async def test_delete_with_events_leaves_a_tombstone_until_published(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"v": 1})
    gone = evt("deleted")
    await things.delete("a", events=[gone], caused_by="cmd-1")
    assert await things.get("a") is None
    assert await things.list() == [] and await things.count() == 0
    [tomb] = await things.with_outbox()
    assert tomb.key == "a" and tomb.deleted and tomb.has_applied("cmd-1")
    assert [e["id"] for e in tomb.outbox] == [gone.id]
    with pytest.raises(NotFound):
        await things.delete("a")
    await things.clear_outbox("a", [gone.id])
    assert await things.with_outbox() == []  # purged once drained
    assert (await things.create("a", {"v": 2})).version == 1


async def test_delete_without_events_keeps_earlier_pending_events(store: Store) -> None:
    things = store.collection("things")
    born = evt("created")
    await things.create("a", {"v": 1}, events=[born])
    await things.delete("a")
    assert await things.get("a") is None
    [tomb] = await things.with_outbox()
    assert tomb.deleted and [e["id"] for e in tomb.outbox] == [born.id]


async def test_create_over_a_pending_tombstone_keeps_its_events_first(store: Store) -> None:
    things = store.collection("things")
    e_created, e_deleted, e_again = evt("c"), evt("d"), evt("again")
    await things.create("a", {"v": 1}, events=[e_created])
    await things.delete("a", events=[e_deleted])  # version 2 tombstone
    again = await things.create("a", {"v": 3}, events=[e_again])
    assert not again.deleted and again.data == {"v": 3}
    assert again.version == 3  # continues, so a writer holding version 1 or 2 conflicts
    assert [e["id"] for e in again.outbox] == [e_created.id, e_deleted.id, e_again.id]
    with pytest.raises(Conflict):
        await things.replace("a", {"v": 0}, expected_version=1)
    with pytest.raises(AlreadyExists):
        await things.create("a", {"v": 4})


async def test_applied_ids_are_recorded_and_capped(store: Store) -> None:
    things = store.collection("things")
    rec = await things.create("a", {"n": 0}, caused_by="e0")
    assert rec.applied == ("e0",)
    total = APPLIED_HISTORY + 6
    for i in range(1, total):
        rec = await things.replace("a", {"n": i}, expected_version=rec.version, caused_by=f"e{i}")
    assert len(rec.applied) == APPLIED_HISTORY
    assert rec.applied[-1] == f"e{total - 1}" and rec.applied[0] == f"e{total - APPLIED_HISTORY}"
    assert not rec.has_applied("e0") and rec.has_applied(f"e{total - 1}")
    # Re-applying a remembered id does not grow the list.
    rec = await things.replace("a", {"n": -1}, expected_version=rec.version, caused_by=f"e{total - 1}")
    assert len(rec.applied) == APPLIED_HISTORY and rec.applied.count(f"e{total - 1}") == 1


async def test_update_skips_an_event_already_applied(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"count": 0})

    def bump(data: dict[str, Any]) -> None:
        data["count"] += 1

    first = await update(things, "a", bump, caused_by="evt-1", events_for=lambda b, a: [evt(a["count"])])
    again = await update(things, "a", bump, caused_by="evt-1", events_for=lambda b, a: [evt(a["count"])])
    assert first.data == {"count": 1} and again.version == first.version
    got = await things.get("a")
    assert got is not None and got.data == {"count": 1} and len(got.outbox) == 1
    with pytest.raises(NotFound):
        await update(things, "missing", bump, caused_by="evt-2")


async def test_update_without_change_writes_nothing(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"count": 0})
    same = await update(things, "a", lambda d: None, caused_by="evt-1")
    assert same.version == 1


async def test_racing_writers_lose_nothing(store: Store) -> None:
    things = store.collection("counters")
    await things.create("c", {"count": 0})
    n = 25

    def bump(data: dict[str, Any]) -> None:
        data["count"] += 1

    await asyncio.gather(*(update(things, "c", bump, caused_by=f"inc-{i}", retries=200) for i in range(n)))
    final = await things.get("c")
    assert final is not None
    assert final.data == {"count": n} and final.version == n + 1
    assert sorted(final.applied) == sorted(f"inc-{i}" for i in range(n))


async def test_racing_creators_one_wins_the_others_update(store: Store) -> None:
    things = store.collection("counters")
    n = 10

    def bump(data: dict[str, Any]) -> None:
        data["count"] += 1

    await asyncio.gather(
        *(update(things, "fresh", bump, caused_by=f"c-{i}", initial={"count": 0}, retries=200) for i in range(n))
    )
    final = await things.get("fresh")
    assert final is not None and final.data == {"count": n}


async def test_plain_compare_and_set_race_has_exactly_one_winner(store: Store) -> None:
    things = store.collection("things")
    await things.create("a", {"owner": None})

    async def claim(who: str) -> str:
        try:
            await things.replace("a", {"owner": who}, expected_version=1)
            return "won"
        except Conflict:
            return "conflict"

    results = await asyncio.gather(*(claim(f"w{i}") for i in range(8)))
    assert sorted(results) == ["conflict"] * 7 + ["won"]
    final = await things.get("a")
    assert final is not None and final.version == 2
    assert results[int(final.data["owner"][1:])] == "won"
