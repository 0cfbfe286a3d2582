"""Idempotency-Key on creating calls: same key and body → the stored answer; other body → 422."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from berth_common.store import AlreadyExists, Store

from .problems import ApiError

COLLECTION = "idempotency"
TTL_SECONDS = 24 * 3600


def _key(user: str, method: str, path: str, key: str) -> str:
    return hashlib.sha256(f"{user}\n{method}\n{path}\n{key}".encode()).hexdigest()


def body_hash(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class IdempotencyBook:
    def __init__(self, store: Store) -> None:
        self.col = store.collection(COLLECTION)

    async def begin(self, *, user: str, method: str, path: str, key: str, body: bytes) -> dict[str, Any] | None:
        """None: go ahead (the key is now reserved). A dict: the stored answer to replay."""
        if not 1 <= len(key) <= 255:
            raise ApiError(
                400,
                "Idempotency-Key must be 1..255 characters",
                errors=[{"field": "Idempotency-Key", "message": "must be 1..255 characters"}],
            )
        k = _key(user, method, path, key)
        digest = body_hash(body)
        try:
            await self.col.create(k, {"body": digest, "state": "pending", "at": time.time()})
            return None
        except AlreadyExists:
            pass
        rec = await self.col.get(k)
        if rec is None:
            return await self.begin(user=user, method=method, path=path, key=key, body=body)
        if time.time() - rec.data["at"] > TTL_SECONDS:
            await self.col.delete(k)
            return await self.begin(user=user, method=method, path=path, key=key, body=body)
        if rec.data["body"] != digest:
            raise ApiError(
                422,
                "Idempotency-Key was already used with a different request body",
                errors=[{"field": "Idempotency-Key", "message": "reused with a different body"}],
            )
        if rec.data["state"] == "pending":
            raise ApiError(409, "a request with this Idempotency-Key is still in progress; retry shortly")
        return dict(rec.data["response"])

    async def finish(
        self, *, user: str, method: str, path: str, key: str, status: int, body: Any, headers: dict[str, str]
    ) -> None:
        k = _key(user, method, path, key)
        rec = await self.col.get(k)
        if rec is None:
            return
        if status >= 500:  # a failure the client may retry: release the key
            await self.col.delete(k)
            return
        data = {**rec.data, "state": "done", "response": {"status": status, "body": body, "headers": headers}}
        await self.col.replace(k, data, expected_version=rec.version)
