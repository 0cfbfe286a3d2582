"""The one small repository interface every Berth service keeps its state behind.

A record is a JSON document under a key, with a ``version`` (Kubernetes-style
resource_version) that every write compares-and-sets, the ids of the events that
caused its recent changes (idempotency), and an ``outbox`` of pending envelopes
written in the same single-document write as the state (transactional outbox
without transactions). A relay publishes the outbox and clears it.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..events import Envelope

# How many causing event ids a record remembers; older ones are dropped first.
APPLIED_HISTORY = 64


class StoreError(Exception):
    """Base class of store errors."""


class InvalidInput(StoreError, ValueError):
    """A key, collection name or document the store refuses (says which and why)."""


class Conflict(StoreError):
    """The record changed since it was read (resource_version mismatch)."""

    def __init__(self, collection: str, key: str, expected: int, actual: int | None) -> None:
        super().__init__(
            f"{collection}/{key}: resource_version {expected} is stale (now {actual})"
            if actual is not None
            else f"{collection}/{key}: record no longer exists"
        )
        self.collection, self.key, self.expected, self.actual = collection, key, expected, actual


class AlreadyExists(StoreError):
    def __init__(self, collection: str, key: str) -> None:
        super().__init__(f"{collection}/{key} already exists")
        self.collection, self.key = collection, key


class NotFound(StoreError):
    def __init__(self, collection: str, key: str) -> None:
        super().__init__(f"{collection}/{key} not found")
        self.collection, self.key = collection, key


@dataclass(frozen=True, slots=True)
class Record:
    key: str
    version: int
    data: dict[str, Any]
    applied: tuple[str, ...] = ()
    outbox: tuple[dict[str, Any], ...] = field(default=())
    deleted: bool = False
    # When the oldest pending outbox event was written (epoch seconds); None when empty.
    pending_since: float | None = None

    def has_applied(self, event_id: str) -> bool:
        return event_id in self.applied


def envelopes_to_outbox(events: Sequence[Envelope]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json", exclude_none=True) for e in events]


def next_applied(applied: Sequence[str], caused_by: str | None) -> list[str]:
    if caused_by is None or caused_by in applied:
        return list(applied)
    return [*applied, caused_by][-APPLIED_HISTORY:]


class Collection(Protocol):
    """One named collection of records. All writes are single-document and atomic."""

    name: str

    async def get(self, key: str) -> Record | None:
        """The live record, or None (also for a deleted record awaiting its outbox)."""

    async def create(
        self,
        key: str,
        data: Mapping[str, Any],
        *,
        events: Sequence[Envelope] = (),
        caused_by: str | None = None,
    ) -> Record:
        """Insert at version 1; AlreadyExists if a live record has that key.

        Over a tombstone whose events are still pending, the new record keeps those
        events ahead of its own and continues the tombstone's version."""

    async def replace(
        self,
        key: str,
        data: Mapping[str, Any],
        *,
        expected_version: int,
        events: Sequence[Envelope] = (),
        caused_by: str | None = None,
    ) -> Record:
        """Write ``data`` if the stored version equals ``expected_version``; else Conflict
        (with ``actual=None`` when the record no longer exists)."""

    async def delete(
        self,
        key: str,
        *,
        expected_version: int | None = None,
        events: Sequence[Envelope] = (),
        caused_by: str | None = None,
    ) -> None:
        """Delete; NotFound if there is no live record (Conflict if ``expected_version`` was
        given). While events are pending (these or earlier ones) a tombstone remains
        that the relay purges after publishing."""

    async def list(
        self,
        *,
        where: Mapping[str, Any] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Record]:
        """Live records ordered by key; ``where`` is equality on top-level data fields."""

    async def count(self, *, where: Mapping[str, Any] | None = None) -> int: ...

    async def with_outbox(self, *, limit: int = 100) -> builtins.list[Record]:
        """Records (tombstones included) whose outbox is not empty, oldest first."""

    async def clear_outbox(self, key: str, event_ids: Sequence[str]) -> None:
        """Remove the given published events from the record's outbox; purge a drained tombstone."""


class Store(Protocol):
    def collection(self, name: str) -> Collection: ...

    async def collections(self) -> list[str]: ...

    async def ping(self) -> None:
        """Raise if the backing server does not answer."""

    async def close(self) -> None: ...
