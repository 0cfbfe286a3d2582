"""Retry schedule for deliveries: exponential backoff, then a dead letter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Backoff:
    base: float = 1.0
    factor: float = 2.0
    cap: float = 300.0

    def delay(self, attempt: int) -> float:
        """Delay after failed attempt number ``attempt`` (1-based)."""
        return min(self.cap, self.base * self.factor ** max(0, attempt - 1))


def should_retry(attempt: int, max_attempts: int, *, permanent: bool) -> bool:
    return not permanent and attempt < max_attempts
