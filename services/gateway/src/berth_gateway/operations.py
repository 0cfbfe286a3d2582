"""Long operations: a 202 answer points at /api/v1/operations/{id}; the state follows the facts
the services publish (matched by correlation id, else by tenant + subject while active)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from berth_common.bus import DeadLetter
from berth_common.events import Envelope
from berth_common.store import NotFound, Store, update

from .backend import Backend
from .pagination import SERVICE_PAGE, service_cursor
from .problems import ApiError

log = logging.getLogger(__name__)
COLLECTION = "operations"
PROGRESS = ("requested", "step", "progress", "started", "decided")
COMMAND_PREFIX = "berth.cmd."


@dataclass(frozen=True, slots=True)
class Completion:
    """Which fact names end an operation; None means "any fact that is not progress"."""

    done: tuple[str, ...] | None = None


def fact_name(type_: str) -> str:
    """``berth.cluster.upgrade-started.v1`` → ``upgrade-started``."""
    parts = type_.split(".")
    return parts[-2] if len(parts) >= 3 else type_


def new_operation_id() -> str:
    return "op-" + secrets.token_hex(10)


class Operations:
    def __init__(self, store: Store) -> None:
        self.col = store.collection(COLLECTION)

    async def create(
        self,
        *,
        op_id: str,
        kind: str,
        target: str,
        tenant: str,
        user: str,
        done: tuple[str, ...] | None,
        confirm: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        data = {
            "id": op_id,
            "kind": kind,
            "target": target,
            "tenant": tenant,
            "state": "pending",
            "active": True,
            "message": "accepted; waiting for the service",
            "steps": [],
            "created_at": now,
            "updated_at": now,
            "requested_by": user,
            "done": list(done) if done is not None else None,
            "confirm": confirm,
        }
        await self.col.create(op_id, data)
        return public(data)

    async def get(self, op_id: str) -> dict[str, Any] | None:
        rec = await self.col.get(op_id)
        return rec.data if rec else None

    async def unconfirmed(self, op_id: str, message: str) -> dict[str, Any] | None:
        """The command may or may not be on the bus: the operation stays open (a fact that comes
        still completes it) and says so. The operation as the caller sees it."""

        def mutate(d: dict[str, Any]) -> None:
            if d["active"]:
                d.update(message=message, updated_at=datetime.now(UTC).isoformat())

        try:
            rec = await update(self.col, op_id, mutate, caused_by=None)
        except NotFound:
            return None
        return public(rec.data)

    async def fail(self, op_id: str, message: str) -> None:
        def mutate(d: dict[str, Any]) -> None:
            d.update(state="failed", active=False, message=message, updated_at=datetime.now(UTC).isoformat())

        with contextlib.suppress(NotFound):
            await update(self.col, op_id, mutate, caused_by=None)

    async def confirm(self, data: dict[str, Any], backend: Backend, *, within: float) -> dict[str, Any]:
        """For commands no fact completes: succeeded once the service's list shows the change."""
        c = data.get("confirm")
        if not c or not data["active"]:
            return data
        try:
            present = await _listed(backend, c, tenant=data["tenant"], within=within)
        except Exception:
            return data
        if present != c["present"]:
            return data

        def mutate(d: dict[str, Any]) -> None:
            if d["active"]:
                d.update(state="succeeded", active=False, message="applied", updated_at=datetime.now(UTC).isoformat())

        rec = await update(self.col, data["id"], mutate, caused_by=None)
        return dict(rec.data)

    async def dead_lettered(self, record: DeadLetter) -> str | None:
        """A command the gateway sent was dead-lettered: its operation fails with the reason.
        The id of the failed operation, or None when the record is not about one of ours."""
        if not record.subject.startswith(COMMAND_PREFIX):
            return None  # a fact a consumer gave up on says nothing about the command that caused it
        try:
            env = Envelope.from_json(record.original_bytes())
        except ValueError:
            return None
        op_id = env.correlationid or ""
        if not op_id.startswith("op-"):
            return None
        now = datetime.now(UTC).isoformat()
        message = f"{record.service} could not apply the command: {record.error}"

        def mutate(d: dict[str, Any]) -> None:
            if not d["active"]:
                return
            step = {"time": record.time.isoformat(), "type": env.type, "name": "dead-lettered", "message": message}
            d.update(state="failed", active=False, message=message, updated_at=now, steps=[*d["steps"], step][-200:])

        try:
            await update(self.col, op_id, mutate, caused_by=None)
        except NotFound:
            return None
        return op_id

    async def apply(self, env: Envelope) -> None:
        """Fold one fact into the operation(s) it belongs to."""
        targets: list[str] = []
        if env.correlationid and env.correlationid.startswith("op-"):
            targets.append(env.correlationid)
        elif env.subject and env.tenant:
            recs = await self.col.list(where={"target": env.subject, "tenant": env.tenant, "active": True}, limit=10)
            targets.extend(r.key for r in recs)
        for op_id in targets:
            with contextlib.suppress(NotFound):
                await update(self.col, op_id, lambda d: _fold(d, env), caused_by=env.id)


async def _listed(backend: Backend, c: dict[str, Any], *, tenant: str, within: float) -> bool:
    """Whether the service's list shows the item (paging with the service past its first page), or,
    for a confirm naming a ``param``, whether the service's get op finds it."""
    if c.get("param"):
        try:
            reply = await backend.query(
                c["service"], c["op"], {"tenant": tenant, c["param"]: c["value"]}, within=within
            )
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return isinstance(reply, dict)
    after: str | None = None
    for _ in range(1000):
        payload = {"tenant": tenant, "limit": SERVICE_PAGE, "after": after}
        reply = await backend.query(c["service"], c["op"], payload, within=within)
        items = reply.get("items", []) if isinstance(reply, dict) else []
        if any(isinstance(i, dict) and i.get(c["key"]) == c["value"] for i in items):
            return True
        nxt = service_cursor(reply, items, c["key"]) if len(items) >= SERVICE_PAGE else None
        if nxt is None or nxt == after:
            return False
        after = nxt
    return False


def _fold(data: dict[str, Any], env: Envelope) -> None:
    if not data["active"]:
        return
    name = fact_name(env.type)
    payload = env.data if isinstance(env.data, dict) else {}
    step = {"time": env.time.isoformat(), "type": env.type, "name": name}
    for k in ("step", "name", "result", "message", "reason", "progress"):
        if k in payload and isinstance(payload[k], str | int | float):
            step[k if k != "name" else "step"] = payload[k]
    data["steps"] = [*data["steps"], step][-200:]
    data["updated_at"] = datetime.now(UTC).isoformat()
    done = data.get("done")
    if name.endswith("failed"):
        data["state"], data["active"] = "failed", False
        data["message"] = str(payload.get("reason") or payload.get("message") or f"{name}")
    elif (done is not None and name in done) or (done is None and not any(name.endswith(p) for p in PROGRESS)):
        data["state"], data["active"] = "succeeded", False
        data["message"] = name
    else:
        data["state"] = "running"
        data["message"] = str(payload.get("step") or payload.get("message") or name)


def public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("active", "done", "confirm")}


class OperationTracker:
    """Follows ``berth.evt.>`` and folds facts into operations (one per gateway replica;
    folding is idempotent by event id so replicas may race)."""

    def __init__(self, backend: Backend, operations: Operations) -> None:
        self.backend = backend
        self.operations = operations
        self._tasks: list[asyncio.Task[None]] = []
        self.ready = asyncio.Event()

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="gateway:operation-tracker"),
            asyncio.create_task(self._dead_letters(), name="gateway:dead-letter-tracker"),
        ]

    async def _dead_letters(self) -> None:
        """Operations whose command was dead-lettered fail with the reason (records stored while
        no gateway ran are read too: the stream is replayed from its start on every start)."""
        while True:
            try:
                async for record in self.backend.dead_letters():
                    try:
                        await self.operations.dead_lettered(record)
                    except Exception:
                        log.exception("failing the operation of a dead-lettered command failed")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("operation tracker lost the dead-letter stream; resubscribing in 1s")
                await asyncio.sleep(1.0)

    async def _run(self) -> None:
        while True:
            try:
                stream = self.backend.events(subjects=["berth.evt.>"], start_seq=None)
                self.ready.set()
                async for _seq, env in stream:
                    try:
                        await self.operations.apply(env)
                    except Exception:
                        log.exception("folding %s into operations failed", env.type)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("operation tracker lost the event stream; resubscribing in 1s")
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
