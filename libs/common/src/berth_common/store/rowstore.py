"""The Collection operations written once, on top of four primitives an adapter provides.

An adapter supplies an atomic read-compute-write of one row (``_transition``) and
three queries; the rules themselves live in :mod:`.rows` and the input checks in
:mod:`.checks`.
"""

from __future__ import annotations

import builtins
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from ..events import Envelope
from . import rows
from .base import Record
from .checks import (
    Scalar,
    check_after,
    check_collection_name,
    check_key,
    check_limit,
    check_version,
    check_where,
)
from .rows import Row


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()
"""A transition's answer for "leave the row as it is"."""

Transition = Callable[[Row | None], Row | _Keep | None]


class RowCollection(ABC):
    """A Collection whose adapter only implements atomic single-row transitions and reads."""

    def __init__(self, name: str) -> None:
        self.name = check_collection_name(name)

    # -- what an adapter implements --------------------------------------------------

    @abstractmethod
    async def _transition(self, key: str, fn: Transition) -> Row | None:
        """Atomically: read the row (tombstones included), call ``fn``, store its answer
        (a Row to write, None to remove the row, KEEP for no write). Exceptions raised by
        ``fn`` propagate and nothing is written. Returns the row now stored."""

    @abstractmethod
    async def _get_row(self, key: str) -> Row | None: ...

    @abstractmethod
    async def _live_rows(self, where: Mapping[str, Scalar], after: str | None, limit: int) -> list[Row]: ...

    @abstractmethod
    async def _count_live(self, where: Mapping[str, Scalar]) -> int: ...

    @abstractmethod
    async def _pending_rows(self, limit: int) -> list[Row]:
        """Rows with a non-empty outbox ordered by (pending_since, key)."""

    # -- the Collection interface ----------------------------------------------------

    async def get(self, key: str) -> Record | None:
        row = await self._get_row(check_key(self.name, key))
        return None if row is None or row.deleted else row.to_record()

    async def create(
        self,
        key: str,
        data: Mapping[str, Any],
        *,
        events: Sequence[Envelope] = (),
        caused_by: str | None = None,
    ) -> Record:
        check_key(self.name, key)
        events = _check_events(self.name, key, events)
        now = time.time()

        def fn(existing: Row | None) -> Row:
            return rows.created(self.name, key, existing, data, events=events, caused_by=caused_by, now=now)

        return _stored(await self._transition(key, fn))

    async def replace(
        self,
        key: str,
        data: Mapping[str, Any],
        *,
        expected_version: int,
        events: Sequence[Envelope] = (),
        caused_by: str | None = None,
    ) -> Record:
        check_key(self.name, key)
        check_version(self.name, key, expected_version, name="expected_version")
        events = _check_events(self.name, key, events)
        now = time.time()

        def fn(existing: Row | None) -> Row:
            return rows.replaced(
                self.name,
                key,
                existing,
                data,
                expected_version=expected_version,
                events=events,
                caused_by=caused_by,
                now=now,
            )

        return _stored(await self._transition(key, fn))

    async def delete(
        self,
        key: str,
        *,
        expected_version: int | None = None,
        events: Sequence[Envelope] = (),
        caused_by: str | None = None,
    ) -> None:
        check_key(self.name, key)
        check_version(self.name, key, expected_version, name="expected_version")
        events = _check_events(self.name, key, events)
        now = time.time()

        def fn(existing: Row | None) -> Row | None:
            return rows.deleted(
                self.name,
                key,
                existing,
                expected_version=expected_version,
                events=events,
                caused_by=caused_by,
                now=now,
            )

        await self._transition(key, fn)

    async def list(
        self,
        *,
        where: Mapping[str, Any] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Record]:
        found = await self._live_rows(
            check_where(self.name, where),
            check_after(self.name, after),
            check_limit(self.name, limit),
        )
        return [r.to_record() for r in found]

    async def count(self, *, where: Mapping[str, Any] | None = None) -> int:
        return await self._count_live(check_where(self.name, where))

    async def with_outbox(self, *, limit: int = 100) -> builtins.list[Record]:
        return [r.to_record() for r in await self._pending_rows(check_limit(self.name, limit))]

    async def clear_outbox(self, key: str, event_ids: Sequence[str]) -> None:
        check_key(self.name, key)
        if isinstance(event_ids, str):
            raise ValueError(f"{self.name}/{key}: event_ids must be a sequence of ids, not a str")
        ids = [str(i) for i in event_ids]
        if not ids:
            return

        def fn(existing: Row | None) -> Row | _Keep | None:
            if existing is None or not any(e.get("id") in ids for e in existing.outbox):
                return KEEP
            return rows.cleared(existing, ids)

        await self._transition(key, fn)


def _check_events(collection: str, key: str, events: Sequence[Envelope]) -> Sequence[Envelope]:
    if isinstance(events, Envelope):
        raise ValueError(f"{collection}/{key}: events must be a sequence of Envelope, not one")
    events = tuple(events)
    for i, e in enumerate(events):
        if not isinstance(e, Envelope):
            raise ValueError(f"{collection}/{key}: events[{i}] must be an Envelope, got {type(e).__name__}")
    return events


def _stored(row: Row | None) -> Record:
    if row is None:  # create/replace always store a row
        raise AssertionError("a create or replace stored no row")
    return row.to_record()
