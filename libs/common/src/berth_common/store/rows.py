"""The stored form of a record and the pure state transitions every adapter applies.

Each adapter reads a :class:`Row`, asks one of the functions here for the next row
(which raises Conflict / AlreadyExists / NotFound) and writes it back atomically:
MemoryStore directly, SqliteStore inside one ``BEGIN IMMEDIATE`` transaction and
MongoStore with a write conditioned on ``seq``. Keeping the rules in one place is
what makes the three adapters behave the same under the contract tests.

``seq`` counts every write, including outbox clears (which do not change
``version``), so a conditional write on ``seq`` can never overwrite a concurrent one.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..events import Envelope
from .base import AlreadyExists, Conflict, NotFound, Record, envelopes_to_outbox, next_applied
from .checks import canonical_data


@dataclass(frozen=True, slots=True)
class Row:
    collection: str
    key: str
    version: int
    seq: int
    data: dict[str, Any]
    applied: tuple[str, ...]
    outbox: tuple[dict[str, Any], ...]
    deleted: bool
    # When the outbox last went from empty to non-empty (epoch seconds); None when empty.
    pending_since: float | None

    def to_record(self) -> Record:
        return Record(
            key=self.key,
            version=self.version,
            data=copy.deepcopy(self.data),
            applied=self.applied,
            outbox=tuple(copy.deepcopy(list(self.outbox))),
            deleted=self.deleted,
            pending_since=self.pending_since,
        )


def _outbox_after(
    existing: Row | None, events: Sequence[Envelope], now: float
) -> tuple[tuple[dict[str, Any], ...], float | None]:
    old = existing.outbox if existing else ()
    new = tuple(envelopes_to_outbox(events))
    outbox = (*old, *new)
    if not outbox:
        return (), None
    since = existing.pending_since if existing and old and existing.pending_since else now
    return outbox, since


def created(
    collection: str,
    key: str,
    existing: Row | None,
    data: Mapping[str, Any],
    *,
    events: Sequence[Envelope],
    caused_by: str | None,
    now: float,
) -> Row:
    """A new live record. Over a tombstone whose events are still pending, the new
    record keeps those events ahead of its own (so the deletion is still published,
    in order) and continues the tombstone's version so stale writers cannot match it."""
    clean = canonical_data(collection, key, data)
    if existing is not None and not existing.deleted:
        raise AlreadyExists(collection, key)
    outbox, since = _outbox_after(existing, events, now)
    return Row(
        collection=collection,
        key=key,
        version=existing.version + 1 if existing else 1,
        seq=existing.seq + 1 if existing else 1,
        data=clean,
        applied=tuple(next_applied(existing.applied if existing else (), caused_by)),
        outbox=outbox,
        deleted=False,
        pending_since=since,
    )


def replaced(
    collection: str,
    key: str,
    existing: Row | None,
    data: Mapping[str, Any],
    *,
    expected_version: int,
    events: Sequence[Envelope],
    caused_by: str | None,
    now: float,
) -> Row:
    clean = canonical_data(collection, key, data)
    live = existing if existing is not None and not existing.deleted else None
    if live is None:
        raise Conflict(collection, key, expected_version, None)
    if live.version != expected_version:
        raise Conflict(collection, key, expected_version, live.version)
    outbox, since = _outbox_after(live, events, now)
    return replace(
        live,
        version=live.version + 1,
        seq=live.seq + 1,
        data=clean,
        applied=tuple(next_applied(live.applied, caused_by)),
        outbox=outbox,
        pending_since=since,
    )


def deleted(
    collection: str,
    key: str,
    existing: Row | None,
    *,
    expected_version: int | None,
    events: Sequence[Envelope],
    caused_by: str | None,
    now: float,
) -> Row | None:
    """The tombstone to store, or None to remove the row outright (nothing pending)."""
    live = existing if existing is not None and not existing.deleted else None
    if live is None:
        if expected_version is not None:
            raise Conflict(collection, key, expected_version, None)
        raise NotFound(collection, key)
    if expected_version is not None and live.version != expected_version:
        raise Conflict(collection, key, expected_version, live.version)
    outbox, since = _outbox_after(live, events, now)
    if not outbox:
        return None
    return replace(
        live,
        version=live.version + 1,
        seq=live.seq + 1,
        applied=tuple(next_applied(live.applied, caused_by)),
        outbox=outbox,
        deleted=True,
        pending_since=since,
    )


def cleared(existing: Row, event_ids: Sequence[str]) -> Row | None:
    """The row without the published events; None when a drained tombstone is purged."""
    gone = set(event_ids)
    outbox = tuple(e for e in existing.outbox if e.get("id") not in gone)
    if existing.deleted and not outbox:
        return None
    return replace(
        existing,
        seq=existing.seq + 1,
        outbox=outbox,
        pending_since=existing.pending_since if outbox else None,
    )
