"""MongoStore: production state on MongoDB (or any Mongo-protocol server such as
FerretDB) through PyMongo's native async API.

A record is one document ``{_id: key, version, seq, data, applied, outbox, deleted,
pending_since}``. Every write is a single-document operation conditioned on the
``seq`` read just before (``replace_one``/``delete_one`` + matched count, or
``insert_one`` + DuplicateKeyError), so it needs no transactions and only the plain
CRUD commands FerretDB v1 implements; the compare-and-set on ``version`` is decided
on that fresh read by the shared rules in :mod:`.rows`.

FerretDB v1 evaluates an update's filter and then writes by ``_id`` in a separate
statement, so two conditional writes on the same ``seq`` can both succeed (a lost
update; the contract's racing-writers test shows it). Against FerretDB the writes of
a key are therefore serialised by a short write lease (:class:`WriteLeases`), built
only on ``insert_one`` + the unique ``_id``, which FerretDB does enforce atomically.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from .base import StoreError
from .checks import Scalar, check_collection_name
from .rows import Row
from .rowstore import KEEP, RowCollection, Transition

Doc = dict[str, Any]

LEASES_COLLECTION = "_berth_write_leases"  # not a valid Berth collection name
LEASE_SECONDS = 10.0
LOCAL_LOCK_STRIPES = 64

# A lost conditional write means another writer succeeded, so the loop always makes
# progress; the bound only turns a pathological livelock into an error.
MAX_WRITE_ATTEMPTS = 200
DATABASE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")


def _escape(value: Any) -> Any:
    """Percent-encode '%', '.' and '$' in every nested key: FerretDB v1 rejects such keys
    (and Kubernetes label keys such as ``app.kubernetes.io/name`` are full of dots)."""
    if isinstance(value, dict):
        return {k.replace("%", "%25").replace(".", "%2E").replace("$", "%24"): _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value


_ESCAPED = re.compile(r"%(?:25|2E|24)")
_UNESCAPE = {"%25": "%", "%2E": ".", "%24": "$"}


def _unescape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k.replace("%2E", ".").replace("%24", "$").replace("%25", "%"): _unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    return value


def _doc(row: Row) -> Doc:
    doc: Doc = {
        "_id": row.key,
        "version": row.version,
        "seq": row.seq,
        "data": _escape(row.data),
        "applied": list(row.applied),
        "outbox": _escape(list(row.outbox)),
        "deleted": row.deleted,
    }
    if row.pending_since is not None:
        doc["pending_since"] = row.pending_since
    return doc


def _row(collection: str, doc: Doc | None) -> Row | None:
    if doc is None:
        return None
    return Row(
        collection=collection,
        key=str(doc["_id"]),
        version=int(doc["version"]),
        seq=int(doc["seq"]),
        data=_unescape(dict(doc.get("data") or {})),
        applied=tuple(doc.get("applied") or ()),
        outbox=tuple(_unescape(list(doc.get("outbox") or ()))),
        deleted=bool(doc.get("deleted", False)),
        pending_since=doc.get("pending_since"),
    )


def _filter(where: Mapping[str, Scalar]) -> Doc:
    # Equality on data.<field>: MongoDB's own rules match checks.check_where (None also
    # matches an absent field; true never equals 1; 1 equals 1.0).
    query: Doc = {"deleted": False}
    for field, value in where.items():
        query[f"data.{field}"] = value
    return query


class LeaseLost(StoreError):
    """A write lease ran out before the write was sent; the write is retried."""


class WriteLeases:
    """Per-key mutual exclusion from insert-only operations.

    A lease is the document ``{_id: "<gen>:<name>", name, gen, expires, released}``.
    Taking one inserts generation ``max + 1`` after reading the newest generation as
    released or expired: the unique ``_id`` lets one taker win. Only its holder ever
    updates a lease document (to release it). A holder must send its write within half
    the lease or give up (LeaseLost), so an expired lease is never still writing.
    """

    def __init__(self, coll: AsyncCollection[Doc], *, lease_seconds: float = LEASE_SECONDS) -> None:
        self._coll = coll
        self.lease_seconds = lease_seconds
        self._indexed = False

    async def _newest(self, name: str) -> Doc | None:
        return await self._coll.find_one({"name": name}, sort=[("gen", -1)])

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[float]:
        """Hold the lease on ``name``; yields the monotonic deadline for sending writes."""
        if not self._indexed:
            await self._coll.create_index([("name", ASCENDING), ("gen", ASCENDING)], name="name_gen")
            self._indexed = True
        while True:
            newest = await self._newest(name)
            now = time.time()
            if newest is None or newest.get("released") or float(newest["expires"]) <= now:
                gen = int(newest["gen"]) + 1 if newest else 1
                lease_id = f"{gen}:{name}"
                taken_at = time.monotonic()
                try:
                    await self._coll.insert_one(
                        {
                            "_id": lease_id,
                            "name": name,
                            "gen": gen,
                            "expires": now + self.lease_seconds,
                            "released": False,
                        }
                    )
                except DuplicateKeyError:
                    continue
                # A taker that read an old generation after newer ones were pruned could
                # insert a stale generation: it holds nothing unless it is the newest.
                check = await self._newest(name)
                if check is not None and check["_id"] == lease_id:
                    break
                await self._coll.delete_one({"_id": lease_id})
                continue
            await asyncio.sleep(random.uniform(0.001, 0.01))
        try:
            yield taken_at + self.lease_seconds / 2
        finally:
            with contextlib.suppress(Exception):  # an unreleased lease just expires
                await self._coll.update_one({"_id": lease_id}, {"$set": {"released": True}})
                if gen % 32 == 0:
                    await self._coll.delete_many({"name": name, "gen": {"$lt": gen}})


class MongoCollection(RowCollection):
    def __init__(self, store: MongoStore, name: str) -> None:
        super().__init__(name)
        self._store = store
        self._coll: AsyncCollection[Doc] = store._db[name]
        self._indexed = False
        self._index_lock = asyncio.Lock()

    async def _ready(self) -> AsyncCollection[Doc]:
        if not self._indexed:
            async with self._index_lock:
                if not self._indexed:
                    # The relay's query: records with pending events, oldest first.
                    await self._coll.create_index([("pending_since", ASCENDING), ("_id", ASCENDING)], name="pending")
                    self._indexed = True
        return self._coll

    async def _transition(self, key: str, fn: Transition) -> Row | None:
        coll = await self._ready()
        leases = await self._store._write_leases()
        for _ in range(MAX_WRITE_ATTEMPTS):
            if leases is None:
                done, row = await self._attempt(coll, key, fn, deadline=None)
            else:
                # A write that would fail its compare-and-set fails here, without the
                # cost of a lease; the lease then guards the real read-check-write.
                existing = _row(self.name, await coll.find_one({"_id": key}))
                if fn(existing) is KEEP:
                    return existing
                name = f"{self.name}/{key}"
                try:
                    async with self._store._local_lock(name), leases.hold(name) as deadline:
                        done, row = await self._attempt(coll, key, fn, deadline=deadline)
                except LeaseLost:
                    done, row = False, None
            if done:
                return row
            await asyncio.sleep(0)
        raise StoreError(f"{self.name}/{key}: gave up after {MAX_WRITE_ATTEMPTS} contended writes")

    async def _attempt(
        self, coll: AsyncCollection[Doc], key: str, fn: Transition, *, deadline: float | None
    ) -> tuple[bool, Row | None]:
        """One read-compute-conditional-write; (False, None) when another write won."""
        existing = _row(self.name, await coll.find_one({"_id": key}))
        new = fn(existing)
        if new is KEEP:
            return True, existing
        if deadline is not None and time.monotonic() > deadline:
            raise LeaseLost(f"{self.name}/{key}: write lease ran out before the write")
        if new is None:
            if existing is None:
                return True, None
            gone = await coll.delete_one({"_id": key, "seq": existing.seq})
            return gone.deleted_count == 1, None
        assert isinstance(new, Row)
        if existing is None:
            try:
                await coll.insert_one(_doc(new))
            except DuplicateKeyError:
                return False, None
            return True, new
        done = await coll.replace_one({"_id": key, "seq": existing.seq}, _doc(new))
        return done.matched_count == 1, new if done.matched_count == 1 else None

    async def _get_row(self, key: str) -> Row | None:
        coll = await self._ready()
        return _row(self.name, await coll.find_one({"_id": key}))

    async def _live_rows(self, where: Mapping[str, Scalar], after: str | None, limit: int) -> list[Row]:
        coll = await self._ready()
        query = _filter(where)
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = coll.find(query).sort("_id", ASCENDING).limit(limit)
        return [r for d in await cursor.to_list(None) if (r := _row(self.name, d)) is not None]

    async def _count_live(self, where: Mapping[str, Scalar]) -> int:
        coll = await self._ready()
        return int(await coll.count_documents(_filter(where)))

    async def _pending_rows(self, limit: int) -> list[Row]:
        coll = await self._ready()
        cursor = (
            coll.find({"pending_since": {"$gt": 0}})
            .sort([("pending_since", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [r for d in await cursor.to_list(None) if (r := _row(self.name, d)) is not None]


class MongoStore:
    """Records in one MongoDB database, one Mongo collection per Berth collection."""

    def __init__(self, url: str, database: str = "berth", *, write_leases: bool | None = None) -> None:
        """``write_leases``: serialise each key's writes with a lease (needed on FerretDB
        v1, whose conditional updates are not atomic). None: on when the server is FerretDB.
        """
        if not isinstance(url, str) or not url.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("MongoStore url must start with mongodb:// or mongodb+srv://")
        if not DATABASE_NAME.match(database or ""):
            raise ValueError(f"MongoStore database {database!r} is invalid: 1-63 letters, digits, '_' or '-'")
        self.database = database
        self._client: AsyncMongoClient[Doc] = AsyncMongoClient(url, appname="berth", tz_aware=True)
        self._db = self._client[database]
        self._collections: dict[str, MongoCollection] = {}
        self._want_leases = write_leases
        self._leases: WriteLeases | None = None
        self._leases_decided = False
        # Tasks of this process queue here rather than contend for leases in the database.
        self._local_locks = [asyncio.Lock() for _ in range(LOCAL_LOCK_STRIPES)]

    def _local_lock(self, name: str) -> asyncio.Lock:
        return self._local_locks[hash(name) % LOCAL_LOCK_STRIPES]

    async def _write_leases(self) -> WriteLeases | None:
        if not self._leases_decided:
            want = self._want_leases
            if want is None:
                info = await self._client.admin.command("buildInfo")
                want = "ferretdbVersion" in info
            self._leases = WriteLeases(self._db[LEASES_COLLECTION]) if want else None
            self._leases_decided = True
        return self._leases

    @property
    def uses_write_leases(self) -> bool | None:
        """Whether writes are serialised by leases (None until the first write)."""
        return (self._leases is not None) if self._leases_decided else None

    def collection(self, name: str) -> MongoCollection:
        check_collection_name(name)
        if name not in self._collections:
            self._collections[name] = MongoCollection(self, name)
        return self._collections[name]

    async def collections(self) -> list[str]:
        names = await self._db.list_collection_names()
        return sorted(n for n in names if not n.startswith(("system.", "_berth")))

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()
