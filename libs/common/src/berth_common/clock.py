"""Time as a dependency: services take a clock so tests can move time by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall time (UTC) for records and expiries, monotonic time for rates and timeouts."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()
