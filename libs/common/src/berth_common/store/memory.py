"""MemoryStore: the same semantics as the real adapters, in a dict, for unit tests of
domain and service code. Not shared between processes; gone when the process ends."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from .checks import Scalar, check_collection_name, matches
from .rows import Row
from .rowstore import KEEP, RowCollection, Transition


class MemoryCollection(RowCollection):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._rows: dict[str, Row] = {}

    async def _transition(self, key: str, fn: Transition) -> Row | None:
        # Yield first so concurrent tasks interleave the way they do on a real server.
        await asyncio.sleep(0)
        existing = self._rows.get(key)
        new = fn(existing)
        if new is KEEP:
            return existing
        if new is None:
            self._rows.pop(key, None)
            return None
        assert isinstance(new, Row)
        self._rows[key] = new
        return new

    async def _get_row(self, key: str) -> Row | None:
        await asyncio.sleep(0)
        return self._rows.get(key)

    async def _live_rows(self, where: Mapping[str, Scalar], after: str | None, limit: int) -> list[Row]:
        await asyncio.sleep(0)
        keys = sorted(k for k in self._rows if after is None or k > after)
        out: list[Row] = []
        for k in keys:
            row = self._rows[k]
            if not row.deleted and matches(row.data, where):
                out.append(row)
                if len(out) == limit:
                    break
        return out

    async def _count_live(self, where: Mapping[str, Scalar]) -> int:
        await asyncio.sleep(0)
        return sum(1 for r in self._rows.values() if not r.deleted and matches(r.data, where))

    async def _pending_rows(self, limit: int) -> list[Row]:
        await asyncio.sleep(0)
        pending = [r for r in self._rows.values() if r.outbox]
        pending.sort(key=lambda r: (r.pending_since or 0.0, r.key))
        return pending[:limit]


class MemoryStore:
    def __init__(self) -> None:
        self._collections: dict[str, MemoryCollection] = {}

    def collection(self, name: str) -> MemoryCollection:
        check_collection_name(name)
        if name not in self._collections:
            self._collections[name] = MemoryCollection(name)
        return self._collections[name]

    async def collections(self) -> list[str]:
        return sorted(n for n, c in self._collections.items() if c._rows)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
