"""The runner's leader lease: one record with a holder and an expiry, taken and renewed
with compare-and-set, so exactly one replica advances releases at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any


def can_take(data: dict[str, Any] | None, *, holder: str, now: datetime) -> bool:
    if data is None or data.get("holder") == holder:
        return True
    return datetime.fromisoformat(str(data["expires_at"])) <= now


def lease(*, holder: str, now: datetime, ttl: float) -> dict[str, Any]:
    return {"holder": holder, "expires_at": (now + timedelta(seconds=ttl)).isoformat(), "renewed_at": now.isoformat()}
