"""OutboxRelay: publishes the events records carry in their outbox, then clears them.

A service writes state and the events it causes in one single-document write; the
relay publishes each record's pending events in order through the bus (which sets
``Nats-Msg-Id`` to the event id, so JetStream drops the re-publish that follows a
crash between publish and clear) and then removes them with ``clear_outbox``. A
publish failure leaves the events where they are for the next round, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from pydantic import ValidationError

from ..events import Envelope
from .base import Record, Store

log = logging.getLogger("berth.store.outbox")

Publish = Callable[[Envelope], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        store: Store,
        publish: Publish,
        *,
        collections: Sequence[str],
        poll_interval: float = 1.0,
        batch_size: int = 100,
        max_backoff: float = 30.0,
    ) -> None:
        if isinstance(collections, str) or not collections:
            raise ValueError("OutboxRelay collections must be a non-empty list of names")
        if poll_interval <= 0:
            raise ValueError(f"OutboxRelay poll_interval must be > 0, got {poll_interval}")
        if batch_size < 1:
            raise ValueError(f"OutboxRelay batch_size must be >= 1, got {batch_size}")
        self._store = store
        self._publish = publish
        self._collections = [store.collection(name) for name in collections]
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.max_backoff = max(max_backoff, poll_interval)
        self._wake = asyncio.Event()
        self._round_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0
        self._oldest_pending: float | None = None
        self._pending = 0
        self.published_total = 0

    # -- observability ---------------------------------------------------------------

    def lag_seconds(self) -> float:
        """Age of the oldest event still pending at the last look (0 when none)."""
        if self._oldest_pending is None:
            return 0.0
        return max(0.0, time.time() - self._oldest_pending)

    def pending_count(self) -> int:
        """Events pending at the last look (counted over at most batch_size records per
        collection)."""
        return self._pending

    # -- control ---------------------------------------------------------------------

    def wake(self) -> None:
        """Publish now instead of at the next poll (call after a local write)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="berth-outbox-relay")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Publish rounds until cancelled: after each wake(), else every poll_interval,
        backing off exponentially while publishing or reading the store fails."""
        while True:
            try:
                await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:
                self._failures += 1
                log.exception("outbox relay round failed")
            delay = (
                min(self.max_backoff, self.poll_interval * 2 ** min(self._failures, 16))
                if self._failures
                else self.poll_interval
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()

    async def flush(self, timeout: float) -> bool:  # noqa: ASYNC109 (a drain budget, not a cancel scope)
        """Publish until nothing is pending or ``timeout`` seconds pass (SIGTERM drain).
        True when everything pending was published."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                await asyncio.wait_for(self.publish_pending(), max(0.0, deadline - time.monotonic()))
                if self._pending == 0:
                    return True
            except TimeoutError:
                return False
            except Exception:
                log.exception("outbox flush round failed")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(0.1, remaining))

    # -- one round -------------------------------------------------------------------

    async def publish_pending(self) -> int:
        """One round over every collection; returns how many events were published.
        Leaves ``pending_count()`` at what is still pending afterwards."""
        async with self._round_lock:
            published = 0
            failed = False
            saw_any = False
            for coll in self._collections:
                while True:
                    records = await coll.with_outbox(limit=self.batch_size)
                    saw_any = saw_any or bool(records)
                    progressed = False
                    for record in records:
                        count, ok = await self._publish_record(coll.name, record)
                        published += count
                        if count:
                            progressed = True
                            await coll.clear_outbox(record.key, _ids(record)[:count])
                        if not ok:
                            failed = True
                            break
                    if failed or not progressed or len(records) < self.batch_size:
                        break
                if failed:
                    break
            if saw_any:
                await self._observe()
            else:
                self._oldest_pending, self._pending = None, 0
            self._failures = self._failures + 1 if failed else 0
            self.published_total += published
            return published

    async def _publish_record(self, collection: str, record: Record) -> tuple[int, bool]:
        """Publish the record's events in order; stop at the first failure so a later
        event never overtakes an earlier one. Returns (how many leading events are done,
        whether all went out)."""
        for i, raw in enumerate(record.outbox):
            try:
                envelope = Envelope.model_validate(raw)
            except ValidationError as exc:
                # Only Envelopes are ever written, so this is corruption; dropping it is
                # better than blocking every later event of the record forever.
                log.error(
                    "dropping unreadable outbox event %s of %s/%s: %s",
                    raw.get("id"),
                    collection,
                    record.key,
                    exc,
                )
                continue
            try:
                await self._publish(envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "publishing %s (%s) from %s/%s failed; will retry: %s",
                    envelope.id,
                    envelope.type,
                    collection,
                    record.key,
                    exc,
                )
                return i, False
        return len(record.outbox), True

    async def _observe(self) -> None:
        oldest: float | None = None
        pending = 0
        for coll in self._collections:
            for record in await coll.with_outbox(limit=self.batch_size):
                pending += len(record.outbox)
                since = record.pending_since
                if since is not None and (oldest is None or since < oldest):
                    oldest = since
        self._oldest_pending, self._pending = oldest, pending


def _ids(record: Record) -> list[str]:
    return [str(e.get("id")) for e in record.outbox]
