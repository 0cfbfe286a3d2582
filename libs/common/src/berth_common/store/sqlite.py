"""SqliteStore: the embedded single-machine default.

One table holds every collection's records (``data``, ``applied`` and ``outbox`` as
JSON text). All statements run on one connection in one worker thread, so the
asyncio tasks of a process are serialised without locks; every write is one
``BEGIN IMMEDIATE`` transaction (read, compute, conditional UPDATE on ``seq``), and
the busy timeout makes several processes on the same file wait for each other
instead of failing. WAL mode lets readers run while a writer commits.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .base import StoreError
from .checks import Scalar, check_collection_name
from .rows import Row
from .rowstore import KEEP, RowCollection, Transition

T = TypeVar("T")

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    collection    TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    data          TEXT    NOT NULL,
    applied       TEXT    NOT NULL,
    outbox        TEXT    NOT NULL,
    deleted       INTEGER NOT NULL,
    pending_since REAL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_pending
    ON records (collection, pending_since, key) WHERE pending_since IS NOT NULL;
"""

_COLUMNS = "collection, key, version, seq, data, applied, outbox, deleted, pending_since"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _row(r: tuple[Any, ...]) -> Row:
    return Row(
        collection=r[0],
        key=r[1],
        version=int(r[2]),
        seq=int(r[3]),
        data=json.loads(r[4]),
        applied=tuple(json.loads(r[5])),
        outbox=tuple(json.loads(r[6])),
        deleted=bool(r[7]),
        pending_since=r[8],
    )


def _params(row: Row) -> tuple[Any, ...]:
    return (
        row.version,
        row.seq,
        _dumps(row.data),
        _dumps(list(row.applied)),
        _dumps(list(row.outbox)),
        int(row.deleted),
        row.pending_since,
    )


def _where_sql(where: Mapping[str, Scalar]) -> tuple[str, list[Any]]:
    """Equality on top-level data fields with the type rules of checks.check_where."""
    clauses: list[str] = []
    params: list[Any] = []
    for field, value in where.items():
        path = f'$."{field}"'  # field names are validated: no quotes can appear
        if value is None:
            clauses.append("json_extract(data, ?) IS NULL")
            params.append(path)
        elif isinstance(value, bool):
            clauses.append("json_type(data, ?) = ?")
            params += [path, "true" if value else "false"]
        elif isinstance(value, int | float):
            clauses.append("json_type(data, ?) IN ('integer', 'real') AND json_extract(data, ?) = ?")
            params += [path, path, value]
        else:
            clauses.append("json_type(data, ?) = 'text' AND json_extract(data, ?) = ?")
            params += [path, path, value]
    return "".join(f" AND {c}" for c in clauses), params


class SqliteCollection(RowCollection):
    def __init__(self, store: SqliteStore, name: str) -> None:
        super().__init__(name)
        self._store = store

    async def _transition(self, key: str, fn: Transition) -> Row | None:
        name = self.name

        def op(conn: sqlite3.Connection) -> Row | None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                found = conn.execute(
                    f"SELECT {_COLUMNS} FROM records WHERE collection = ? AND key = ?", (name, key)
                ).fetchone()
                existing = _row(found) if found else None
                new = fn(existing)
                if new is KEEP:
                    conn.execute("ROLLBACK")
                    return existing
                if new is None:
                    if existing is not None:
                        conn.execute(
                            "DELETE FROM records WHERE collection = ? AND key = ? AND seq = ?",
                            (name, key, existing.seq),
                        )
                elif existing is None:
                    assert isinstance(new, Row)
                    conn.execute(
                        f"INSERT INTO records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (name, key, *_params(new)),
                    )
                else:
                    assert isinstance(new, Row)
                    cur = conn.execute(
                        "UPDATE records SET version = ?, seq = ?, data = ?, applied = ?, "
                        "outbox = ?, deleted = ?, pending_since = ? "
                        "WHERE collection = ? AND key = ? AND seq = ?",
                        (*_params(new), name, key, existing.seq),
                    )
                    if cur.rowcount != 1:  # impossible inside BEGIN IMMEDIATE; never ignore it
                        raise StoreError(f"{name}/{key}: row changed under an immediate transaction")
                conn.execute("COMMIT")
                return new if isinstance(new, Row) else None
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        return await self._store._run(op)

    async def _get_row(self, key: str) -> Row | None:
        name = self.name

        def op(conn: sqlite3.Connection) -> Row | None:
            found = conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE collection = ? AND key = ?", (name, key)
            ).fetchone()
            return _row(found) if found else None

        return await self._store._run(op)

    async def _live_rows(self, where: Mapping[str, Scalar], after: str | None, limit: int) -> list[Row]:
        cond, params = _where_sql(where)
        if after is not None:
            cond += " AND key > ?"
            params.append(after)
        sql = f"SELECT {_COLUMNS} FROM records WHERE collection = ? AND deleted = 0{cond} ORDER BY key LIMIT ?"
        args = (self.name, *params, limit)
        return await self._store._run(lambda c: [_row(r) for r in c.execute(sql, args)])

    async def _count_live(self, where: Mapping[str, Scalar]) -> int:
        cond, params = _where_sql(where)
        sql = f"SELECT count(*) FROM records WHERE collection = ? AND deleted = 0{cond}"
        args = (self.name, *params)
        return await self._store._run(lambda c: int(c.execute(sql, args).fetchone()[0]))

    async def _pending_rows(self, limit: int) -> list[Row]:
        sql = (
            f"SELECT {_COLUMNS} FROM records WHERE collection = ? AND pending_since IS NOT NULL "
            "ORDER BY pending_since, key LIMIT ?"
        )
        args = (self.name, limit)
        return await self._store._run(lambda c: [_row(r) for r in c.execute(sql, args)])


class SqliteStore:
    """Records in one SQLite file; safe for many tasks and several processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) in ("", ":memory:"):
            raise ValueError(f"SqliteStore path must be a file, got {str(path)!r}; use memory://")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="berth-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._collections: dict[str, SqliteCollection] = {}
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                conn.execute("PRAGMA journal_mode = WAL")
                # NORMAL in WAL mode: a committed write survives a process crash; only an
                # OS crash or power loss can lose the last transactions.
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.executescript(_SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    async def _run(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreError(f"SqliteStore {self.path} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: op(self._connect()))

    def collection(self, name: str) -> SqliteCollection:
        check_collection_name(name)
        if name not in self._collections:
            self._collections[name] = SqliteCollection(self, name)
        return self._collections[name]

    async def collections(self) -> list[str]:
        return await self._run(
            lambda c: [r[0] for r in c.execute("SELECT DISTINCT collection FROM records ORDER BY 1")]
        )

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._closed:
            return

        def shut(_: sqlite3.Connection | None = None) -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, shut)
        self._closed = True
        self._executor.shutdown(wait=True)
