"""The handler pattern in one call: read, skip if already applied, mutate, write with
compare-and-set, and on a lost race re-read and try again."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..events import Envelope
from .base import AlreadyExists, Collection, Conflict, NotFound, Record

Mutate = Callable[[dict[str, Any]], dict[str, Any] | None]
"""Change ``data`` in place (return None) or return the new data. Called again on retry,
so it must not have side effects."""

EventsFor = Callable[[Mapping[str, Any] | None, Mapping[str, Any]], Sequence[Envelope]]
"""(data before or None when creating, data after) -> events to store with the write."""


async def update(
    collection: Collection,
    key: str,
    mutate: Mutate,
    *,
    caused_by: str | None,
    events_for: EventsFor | None = None,
    initial: Mapping[str, Any] | None = None,
    retries: int = 20,
) -> Record:
    """Apply ``mutate`` to the record's data and store it with its events atomically.

    - ``caused_by`` (the id of the event or command being handled) already applied:
      nothing is written and the current record is returned (idempotent redelivery).
    - No record: NotFound, unless ``initial`` is given, in which case it is created from
      a copy of ``initial`` with ``mutate`` applied.
    - Nothing changed and no events: nothing is written.
    - Lost race (Conflict or AlreadyExists): re-read and retry up to ``retries`` times,
      then the last Conflict (or AlreadyExists) propagates.
    """
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    last: Conflict | AlreadyExists | None = None
    for attempt in range(retries + 1):
        if attempt:
            # Jittered backoff spreads out writers that keep colliding.
            await asyncio.sleep(random.uniform(0, 0.002 * min(attempt, 10)))
        record = await collection.get(key)
        if record is None and initial is None:
            raise NotFound(collection.name, key)
        if record is not None and caused_by is not None and record.has_applied(caused_by):
            return record
        if record is None:
            assert initial is not None
            before, source = None, initial
        else:
            before, source = copy.deepcopy(record.data), record.data
        data = copy.deepcopy(dict(source))
        changed = mutate(data)
        after = data if changed is None else changed
        events = list(events_for(before, after)) if events_for is not None else []
        try:
            if record is None:
                return await collection.create(key, after, events=events, caused_by=caused_by)
            if after == record.data and not events:
                return record
            return await collection.replace(
                key, after, expected_version=record.version, events=events, caused_by=caused_by
            )
        except (Conflict, AlreadyExists) as exc:
            last = exc
    assert last is not None
    raise last
