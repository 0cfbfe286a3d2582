"""A token bucket shared by every worker of one policy: the bandwidth cap holds for the policy."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """``rate`` bytes per second with a burst of ``burst`` bytes; ``take`` waits for tokens."""

    def __init__(self, rate: float, *, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0 bytes/s, got {rate}")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(rate / 4, 64 * 1024))
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self, n: int) -> None:
        async with self._lock:  # FIFO: one waiter at a time drains the bucket
            while True:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                # debt is allowed up to one request so pieces larger than the burst still pass
                if self._tokens > 0:
                    self._tokens -= n
                    return
                await asyncio.sleep(-self._tokens / self.rate)
