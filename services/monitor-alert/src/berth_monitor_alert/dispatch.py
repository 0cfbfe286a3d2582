"""The dispatcher: sends pending notifications, one queue per channel.

Each channel (robot) has a sliding-window limit (DingTalk: 20 a minute); a phone channel has one
per recipient (its parts are one message or call per recipient). Parts go out in order, a
failed attempt is retried with exponential backoff, and after the channel's
``max_attempts`` the notification becomes a dead-letter record and a notify-failed fact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from berth_common.events import Envelope, registry
from berth_common.store import AlreadyExists, Conflict, Store
from berth_common.store.unit_of_work import update
from berth_schema.alert import AlertNotified, AlertNotifyFailed
from berth_schema.alert.channels import Channel

from . import state
from .config import Deps
from .domain.channels import rate as channel_rate
from .domain.outbound import Outbound, build
from .domain.phone import build_phone
from .domain.ratelimit import SlidingWindow
from .domain.retry import should_retry

log = logging.getLogger(__name__)
LEASE_SECONDS = 60.0
PARALLEL_SENDS = 16
SCAN_INTERVAL = 1.0  # seconds between store scans for due retries


class Dispatcher:
    def __init__(self, store: Store, deps: Deps, *, wake_relay: Any = None) -> None:
        self.store = store
        self.deps = deps
        self._wake = asyncio.Event()
        self._buckets: dict[str, SlidingWindow] = {}
        self._wake_relay = wake_relay or (lambda: None)
        self._busy: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready: dict[tuple[str, str], list[str]] = {}

    def wake(self) -> None:
        self._wake.set()

    def _bucket(self, ch: Channel, recipient: str | None = None) -> SlidingWindow | None:
        rate = channel_rate(ch)
        if rate is None:
            return None
        bkey = f"{ch.tenant}:{ch.name}:{ch.url}:{rate}:{recipient or ''}"
        if bkey not in self._buckets:
            self._buckets[bkey] = SlidingWindow(per_minute=rate, clock=self.deps.clock.monotonic)
        return self._buckets[bkey]

    def submit(self, tenant: str, channel: str, ids: list[str]) -> None:
        """Fast path: notifications just queued by this process are sent without a store scan."""
        self._ready.setdefault((tenant, channel), []).extend(ids)
        self.wake()

    async def run(self) -> None:
        next_scan = 0.0
        while True:
            self._wake.clear()
            wait = 1.0
            try:
                self._start_ready()
                if time.monotonic() >= next_scan:
                    wait = await self.run_once()
                    next_scan = time.monotonic() + min(wait, SCAN_INTERVAL)
                wait = max(0.0, next_scan - time.monotonic())
            except Exception:
                log.exception("dispatch round failed")
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # races with the event being set, and this loop would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, wait)):
                    await self._wake.wait()

    async def stop(self) -> None:
        """Cancel sends in flight (their notifications stay leased, then pending again)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task

    def _start_ready(self) -> None:
        for (tenant, name), ids in list(self._ready.items()):
            if self._drain(tenant, name, ids):
                del self._ready[(tenant, name)]

    def _drain(self, tenant: str, name: str, ids: list[str]) -> bool:
        qkey = f"{tenant}:{name}"
        if qkey in self._busy:
            return False
        self._busy.add(qkey)
        task = asyncio.create_task(self._drain_channel(qkey, tenant, name, ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def run_once(self) -> float:
        """Scan the store and start sending every due notification (retries, other replicas'
        leftovers); returns seconds until the next one may be due."""
        col = self.store.collection(state.NOTIFICATIONS)
        now = self.deps.clock.now().timestamp()
        next_wait = SCAN_INTERVAL
        by_channel: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for doc in await state.list_all(col, where={"state": "pending"}) + await state.list_all(
            col, where={"state": "failed"}
        ):
            if doc.get("lease_until", 0) > now:
                continue
            if doc["next_at"] > now:
                next_wait = min(next_wait, doc["next_at"] - now)
                continue
            by_channel.setdefault((doc["tenant"], doc["channel"]), []).append(doc)
        for (tenant, name), docs in by_channel.items():
            ordered = sorted(docs, key=lambda d: (d["next_at"], d["created_at"]))
            self._drain(tenant, name, [d["id"] for d in ordered])
        return next_wait

    async def _drain_channel(self, qkey: str, tenant: str, name: str, ids: list[str]) -> None:
        try:
            ch = await state.channel(self.store, tenant, name)
            if ch is not None and channel_rate(ch) is None:
                # No platform rate limit (generic webhook, email): send several at once.
                sem = asyncio.Semaphore(PARALLEL_SENDS)

                async def one(nid: str) -> None:
                    async with sem:
                        await self._process(nid, ch, name)

                await asyncio.gather(*(one(i) for i in ids))
            else:
                for nid in ids:
                    if not await self._process(nid, ch, name):
                        break  # rate-limited: keep this robot's order, the scan picks it up
        except Exception:
            log.exception("sending on channel %s failed", qkey)
        finally:
            self._busy.discard(qkey)
            self.wake()

    async def _process(self, nid: str, ch: Channel | None, name: str) -> bool:
        doc = await self._claim(nid)
        if doc is None:
            return True
        if doc["state"] == "failed" or ch is None:
            await self._dead(doc, ch, doc.get("last_error") or f"channel {name!r} does not exist")
            return True
        return await self._send(doc, ch)

    async def _claim(self, nid: str) -> dict[str, Any] | None:
        """Lease a notification so that another replica's dispatcher leaves it alone."""
        col = self.store.collection(state.NOTIFICATIONS)
        rec = await col.get(nid)
        now = self.deps.clock.now().timestamp()
        if rec is None or rec.data["state"] not in ("pending", "failed") or rec.data.get("lease_until", 0) > now:
            return None
        data = {**rec.data, "lease_until": now + LEASE_SECONDS}
        try:
            await col.replace(nid, data, expected_version=rec.version)
        except Conflict:
            return None
        return data

    async def _send(self, doc: dict[str, Any], ch: Channel) -> bool:
        """Send the remaining parts; False when the rate limit stopped us."""
        col = self.store.collection(state.NOTIFICATIONS)
        bucket: SlidingWindow | None = None
        sent = doc["sent_parts"]
        error: str | None = None
        permanent = False
        limited = False
        refs: list[str] = list(doc.get("provider_ids") or [])
        for part in doc["parts"][sent:]:
            bucket = self._bucket(ch, part.get("to"))
            if bucket is not None and not bucket.try_take():
                limited = True
                break
            result = await self.deps.sender.send(ch, self._message(doc, ch, part))
            if not result.ok:
                if bucket is not None and ch.phone:
                    bucket.give_back()  # the provider did not take it: it does not count for the number
                error, permanent = result.detail, result.permanent
                break
            if result.ref:
                refs.append(result.ref)
            sent += 1
        now = self.deps.clock.now()
        if sent == len(doc["parts"]):
            await self._done({**doc, "provider_ids": refs}, ch, now)
            return True
        if limited and error is None:
            wait = bucket.wait_time() if bucket else 1.0
            await self._save(col, doc, sent_parts=sent, provider_ids=refs, next_at=now.timestamp() + wait)
            return False
        attempts = doc["attempts"] + 1
        if should_retry(attempts, ch.max_attempts, permanent=permanent):
            delay = self.deps.backoff.delay(attempts)
            log.info("notification %s to %s failed (%s); retry %d in %.1fs", doc["id"], ch.name, error, attempts, delay)
            await self._save(
                col,
                doc,
                sent_parts=sent,
                provider_ids=refs,
                attempts=attempts,
                last_error=error,
                next_at=now.timestamp() + delay,
            )
            return True
        await self._dead({**doc, "attempts": attempts, "sent_parts": sent}, ch, error or "failed")
        return True

    def _message(self, doc: Mapping[str, Any], ch: Channel, part: Mapping[str, Any]) -> Outbound:
        now_s = self.deps.clock.now().timestamp()
        if ch.phone:
            return build_phone(
                ch, part, tenant=doc["tenant"], now_s=now_s, nonce=secrets.token_hex(16), reference=doc["id"]
            )
        return build(ch, part["title"], part["text"], now_s=now_s)

    async def _save(self, col: Any, doc: dict[str, Any], **changes: Any) -> None:
        def mutate(data: dict[str, Any]) -> None:
            data.update(changes, lease_until=0)

        try:
            await update(col, doc["id"], mutate, caused_by=None)
        except Conflict:
            log.warning("notification %s changed while sending", doc["id"])

    def _attrs(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {"tenant": doc["tenant"], "subject": f"notifications/{doc['id']}", "source": state.SOURCE}

    async def _done(self, doc: dict[str, Any], ch: Channel, now: datetime) -> None:
        fact = AlertNotified(
            notification=doc["id"],
            channel=ch.name,
            kind=ch.kind,
            fingerprints=doc["fingerprints"],
            parts=len(doc["parts"]),
            attempts=doc["attempts"] + 1,
            escalation=doc.get("escalation", False),
        )

        def mutate(data: dict[str, Any]) -> None:
            data.update(
                state="sent",
                sent_parts=len(data["parts"]),
                sent_at=now.isoformat(),
                last_error=None,
                lease_until=0,
                provider_ids=doc.get("provider_ids") or [],
            )

        def events(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[Envelope]:
            if before is not None and before.get("state") == "sent":
                return []
            return [registry.envelope(fact, **self._attrs(doc))]

        await update(self.store.collection(state.NOTIFICATIONS), doc["id"], mutate, caused_by=None, events_for=events)
        for fp in doc["fingerprints"]:
            await self._mark_alert(doc["tenant"], fp, ch.name, now, escalation=doc.get("escalation", False))
        self._wake_relay()

    async def _mark_alert(self, tenant: str, fp: str, channel: str, now: datetime, *, escalation: bool) -> None:
        def mutate(data: dict[str, Any]) -> None:
            data.setdefault("escalated" if escalation else "notified", {}).setdefault(channel, now.isoformat())

        try:
            await update(self.store.collection(state.ALERTS), state.key(tenant, fp), mutate, caused_by=None)
        except Exception:
            log.exception("could not record the notification on alert %s", fp)

    async def _dead(self, doc: dict[str, Any], ch: Channel | None, error: str) -> None:
        now = self.deps.clock.now()
        letter = {
            "id": doc["id"],
            "tenant": doc["tenant"],
            "channel": doc["channel"],
            "kind": ch.kind if ch else doc.get("kind", "unknown"),
            "fingerprints": doc["fingerprints"],
            "attempts": doc["attempts"],
            "error": error,
            "parts": doc["parts"],
            "failed_at": now.isoformat(),
        }
        fact = AlertNotifyFailed(
            notification=doc["id"],
            channel=doc["channel"],
            kind=letter["kind"],
            fingerprints=doc["fingerprints"],
            attempts=doc["attempts"],
            error=error,
        )
        with contextlib.suppress(AlreadyExists):  # already dead-lettered by an earlier attempt
            await self.store.collection(state.DEAD_LETTERS).create(
                doc["id"], letter, events=[registry.envelope(fact, **self._attrs(doc))]
            )
        await self._save(
            self.store.collection(state.NOTIFICATIONS),
            doc,
            state="dead",
            attempts=doc["attempts"],
            last_error=error,
            failed_at=datetime.now(UTC).isoformat(),
        )
        self._wake_relay()
