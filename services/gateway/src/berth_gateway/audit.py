"""The audit log: one record per mutating call, per hook request and per refusal (who, what,
when, result, request id). Refusals of callers who did not authenticate are aggregated per
client address (``RefusalDigest``) so that a flood of anonymous or bad-token requests writes a
few summary rows, not one row each."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from berth_common.store import Store

COLLECTION = "audit"


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.col = store.collection(COLLECTION)

    async def record(
        self,
        *,
        user: str,
        via: str,
        tenant: str,
        method: str,
        path: str,
        action: str,
        status: int,
        request_id: str,
        detail: str = "",
        client: str = "",
    ) -> None:
        # Keys sort by time, so the cursor pages through the log in order.
        key = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        await self.col.create(
            key,
            {
                "id": key,
                "time": datetime.now(UTC).isoformat(),
                "user": user,
                "via": via,
                "tenant": tenant,
                "method": method,
                "path": path,
                "action": action,
                "status": status,
                "result": "ok" if status < 400 else "error",
                "request_id": request_id,
                "detail": detail[:500],
                "client": client,
            },
        )

    async def query(self, *, where: dict[str, Any], after: str | None, limit: int) -> list[dict[str, Any]]:
        return [r.data for r in await self.col.list(where=where, after=after, limit=limit)]


DigestKey = tuple[str, str, int]  # (client address, what was asked: "api" or "hook:<name>", status)


class RefusalDigest:
    """Which unauthenticated refusals get an audit row of their own: the first of each key in a
    window does (and reports how many the previous window suppressed); the others are counted.
    ``due`` hands out the counts of windows that ended with suppressed refusals, for summary rows."""

    def __init__(self, *, window: float = 60.0, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._open: dict[DigestKey, list[float]] = {}  # key -> [window start, suppressed count]
        self._last_sweep = clock()

    def admit(self, key: DigestKey) -> int | None:
        """None: counted, write nothing. Else write a row; the int is what the last window suppressed."""
        now = self.clock()
        entry = self._open.get(key)
        if entry is not None and now - entry[0] < self.window:
            entry[1] += 1
            return None
        if entry is None and len(self._open) >= self.max_keys:
            self._open.pop(next(iter(self._open)))  # forget the oldest key rather than grow unbounded
        self._open[key] = [now, 0.0]
        return int(entry[1]) if entry is not None else 0

    def due(self) -> list[tuple[DigestKey, int]]:
        """Keys whose window ended with refusals not written yet (at most once per quarter window)."""
        now = self.clock()
        if now - self._last_sweep < self.window / 4:
            return []
        self._last_sweep = now
        out = []
        for key, (start, count) in list(self._open.items()):
            if now - start >= self.window:
                del self._open[key]
                if count:
                    out.append((key, int(count)))
        return out
