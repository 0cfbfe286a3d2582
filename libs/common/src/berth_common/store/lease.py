"""A leader lease as a store record with an expiry, taken and renewed by compare-and-set, so that
one replica of a service runs a singleton loop (a prober, a step runner, a scheduler)."""

from __future__ import annotations

import contextlib

from ..clock import Clock
from .base import AlreadyExists, Collection, Conflict, NotFound


class Lease:
    def __init__(self, col: Collection, name: str, *, holder: str, ttl: float, clock: Clock) -> None:
        self.col, self.name, self.holder, self.ttl, self.clock = col, name, holder, ttl, clock

    async def acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if we hold it."""
        now = self.clock.now().timestamp()
        data = {"holder": self.holder, "expires_at": now + self.ttl, "renewed_at": now}
        rec = await self.col.get(self.name)
        try:
            if rec is None:
                await self.col.create(self.name, data)
                return True
            if rec.data.get("holder") == self.holder or float(rec.data.get("expires_at", 0)) < now:
                await self.col.replace(self.name, data, expected_version=rec.version)
                return True
        except (Conflict, AlreadyExists):
            return False
        return False

    async def release(self) -> None:
        rec = await self.col.get(self.name)
        if rec is not None and rec.data.get("holder") == self.holder:
            with contextlib.suppress(Conflict, NotFound):
                await self.col.delete(self.name, expected_version=rec.version)
