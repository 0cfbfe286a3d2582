"""Idempotency-Key on creating calls, scoped by tenant and caller: the same key and body → the
stored answer; another body → 422; the same key in another tenant (or by another user) is
another request altogether.

A command the gateway could not confirm as handed to the bus keeps its key (state
``unconfirmed``) with its operation id: a retry with the same key re-sends the command under the
same operation and the same envelope id, which JetStream deduplicates (``Nats-Msg-Id``)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from berth_common.store import AlreadyExists, Conflict, Store

from .operations import new_operation_id
from .problems import ApiError

COLLECTION = "idempotency"
TTL_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose request a key belongs to."""

    tenant: str
    user: str
    method: str
    path: str
    key: str

    def digest(self) -> str:
        parts = (self.tenant, self.user, self.method, self.path, self.key)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Reservation:
    """What to do with a request: replay ``stored``, or run it under ``op_id`` (``resend``: the
    command may already be on the bus from an earlier try; send the same envelope again)."""

    op_id: str
    stored: dict[str, Any] | None = None
    resend: bool = False


def body_hash(body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= 255:
        raise ApiError(
            400,
            "Idempotency-Key must be 1..255 characters",
            errors=[{"field": "Idempotency-Key", "message": "must be 1..255 characters"}],
        )


class IdempotencyBook:
    def __init__(self, store: Store) -> None:
        self.col = store.collection(COLLECTION)

    async def begin(self, scope: Scope, *, body: bytes) -> Reservation:
        """Reserve the key (state pending) or say what to replay."""
        check_key(scope.key)
        k = scope.digest()
        digest = body_hash(body)
        for _ in range(5):
            try:
                op_id = new_operation_id()
                await self.col.create(k, {"body": digest, "state": "pending", "at": time.time(), "op_id": op_id})
                return Reservation(op_id=op_id)
            except AlreadyExists:
                pass
            rec = await self.col.get(k)
            if rec is None:
                continue
            if time.time() - rec.data["at"] > TTL_SECONDS:
                await self.col.delete(k)
                continue
            if rec.data["body"] != digest:
                raise ApiError(
                    422,
                    "Idempotency-Key was already used with a different request body",
                    errors=[{"field": "Idempotency-Key", "message": "reused with a different body"}],
                )
            if rec.data["state"] == "pending":
                raise ApiError(409, "a request with this Idempotency-Key is still in progress; retry shortly")
            if rec.data["state"] == "unconfirmed":
                try:
                    await self.col.replace(k, {**rec.data, "state": "pending"}, expected_version=rec.version)
                except Conflict:
                    continue
                return Reservation(op_id=str(rec.data["op_id"]), resend=True)
            return Reservation(op_id=str(rec.data.get("op_id", "")), stored=dict(rec.data["response"]))
        raise ApiError(409, "a request with this Idempotency-Key is changing concurrently; retry shortly")

    async def finish(self, scope: Scope, *, status: int, body: Any, headers: dict[str, str]) -> None:
        k = scope.digest()
        rec = await self.col.get(k)
        if rec is None:
            return
        if status >= 500:  # a failure the client may retry: release the key
            await self.col.delete(k)
            return
        data = {**rec.data, "state": "done", "response": {"status": status, "body": body, "headers": headers}}
        await self.col.replace(k, data, expected_version=rec.version)

    async def unconfirmed(self, scope: Scope, *, body: bytes, op_id: str) -> None:
        """The command of ``op_id`` may or may not be on the bus: keep the key for a safe retry."""
        k = scope.digest()
        data = {"body": body_hash(body), "state": "unconfirmed", "at": time.time(), "op_id": op_id}
        rec = await self.col.get(k)
        if rec is None:
            try:
                await self.col.create(k, data)
            except AlreadyExists:
                return
        else:
            await self.col.replace(k, data, expected_version=rec.version)
