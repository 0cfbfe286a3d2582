"""A token bucket per robot with an injectable clock (DingTalk allows 20 messages a minute)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    def __init__(self, *, per_minute: int, burst: int | None = None, clock: Clock = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be >= 1, got {per_minute}")
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)
        self._tokens = self.capacity
        self._clock = clock
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def try_take(self) -> bool:
        self._refill()
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill()
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self.rate


class SlidingWindow:
    """At most ``per_minute`` takes in ANY 60-second window.

    This is what DingTalk enforces (more than 20 in a minute -> errcode 130101 and a
    10-minute mute); a token bucket of capacity 20 refilling 20/min would allow up to 40 in
    a minute after a burst, so robots use this instead.
    """

    def __init__(self, *, per_minute: int, clock: Clock = time.monotonic, window: float = 60.0) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be >= 1, got {per_minute}")
        self.limit = per_minute
        self.window = window
        self._clock = clock
        self._taken: deque[float] = deque()

    def _expire(self) -> float:
        now = self._clock()
        while self._taken and now - self._taken[0] >= self.window:
            self._taken.popleft()
        return now

    def try_take(self) -> bool:
        now = self._expire()
        if len(self._taken) < self.limit:
            self._taken.append(now)
            return True
        return False

    def give_back(self) -> None:
        """Undo the last take: the message it was for was not delivered (a retry may use it)."""
        if self._taken:
            self._taken.pop()

    def wait_time(self) -> float:
        now = self._expire()
        if len(self._taken) < self.limit:
            return 0.0
        return max(0.0, self._taken[0] + self.window - now)
