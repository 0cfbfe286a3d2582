"""The audit log: one record per mutating call (who, what, when, result, request id)."""

from __future__ import annotations

import secrets
import time
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
            },
        )

    async def query(self, *, where: dict[str, Any], after: str | None, limit: int) -> list[dict[str, Any]]:
        return [r.data for r in await self.col.list(where=where, after=after, limit=limit)]
