"""Request/reply queries on ``berth.api.<service>.<op>`` through nats.micro."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from nats.aio.client import Client
from nats.micro import add_service
from nats.micro.request import ERROR_CODE_HEADER, ERROR_HEADER, Request
from nats.micro.service import Service
from opentelemetry import trace
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from .errors import QueryError
from .handlers import QueryFunc
from .tracing import TRACER, extract_context

log = logging.getLogger(__name__)

API_PREFIX = "berth.api."
_OP = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_MAX_CONCURRENT = 64


def check_op(op: str) -> str:
    if not _OP.match(op):
        raise ValueError(f"query op {op!r} must be lowercase letters, digits, '-' or '_' (max 63 characters)")
    return op


def api_subject(service: str, op: str) -> str:
    return f"{API_PREFIX}{service}.{op}"


def encode_reply(value: Any) -> bytes:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return json.dumps(to_jsonable_python(value), separators=(",", ":")).encode()


def decode_request(data: bytes) -> dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise QueryError(400, f"request body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise QueryError(400, f"request body must be a JSON object, got {type(value).__name__}")
    return value


class QueryServer:
    """The micro service of one Bus: one endpoint per declared query, queue group = service."""

    def __init__(self, service: str, queries: dict[str, QueryFunc]) -> None:
        self.service = service
        self.queries = queries
        self._micro: Service | None = None
        self._limit = asyncio.Semaphore(_MAX_CONCURRENT)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, nc: Client, *, version: str) -> None:
        self._micro = await add_service(
            nc,
            name=self.service,
            version=version,
            description=f"Berth {self.service} queries",
            queue_group=self.service,
        )
        for op, func in self.queries.items():
            await self._micro.add_endpoint(
                name=op,
                subject=api_subject(self.service, op),
                queue_group=self.service,
                handler=self._endpoint(op, func),
            )

    def _endpoint(self, op: str, func: QueryFunc) -> Any:
        async def on_request(req: Request) -> None:
            # micro awaits endpoint handlers one at a time; answer concurrently instead.
            await self._limit.acquire()
            task = asyncio.get_running_loop().create_task(self._answer(op, func, req))
            self._tasks.add(task)
            task.add_done_callback(self._finished)

        return on_request

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._limit.release()

    async def _answer(self, op: str, func: QueryFunc, req: Request) -> None:
        with TRACER.start_as_current_span(
            f"{self.service}.{op}",
            context=extract_context(req.headers),
            kind=trace.SpanKind.SERVER,
            attributes={"messaging.system": "nats", "rpc.service": self.service, "rpc.method": op},
        ) as span:
            try:
                reply = encode_reply(await func(decode_request(req.data)))
            except QueryError as exc:
                span.set_status(trace.StatusCode.ERROR, exc.detail)
                await _respond_error(req, exc.code, exc.detail)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(trace.StatusCode.ERROR, type(exc).__name__)
                log.exception("%s query %s failed", self.service, op)
                await _respond_error(req, 500, f"internal error ({type(exc).__name__})")
            else:
                await _safe(req.respond(reply))

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._micro is not None:
            try:
                await self._micro.stop()
            except Exception as exc:
                log.warning("stopping the %s micro service: %r", self.service, exc)
            self._micro = None


async def _respond_error(req: Request, code: int, detail: str) -> None:
    # Header values cannot hold line breaks.
    await _safe(req.respond_error(str(code), " ".join(detail.split())))


async def _safe(coro: Any) -> None:
    try:
        await coro
    except Exception as exc:  # the requester is gone or the connection dropped
        log.warning("could not send a query reply: %r", exc)


def raise_for_error(headers: dict[str, str] | None) -> None:
    if headers and ERROR_CODE_HEADER in headers:
        code = headers[ERROR_CODE_HEADER]
        detail = headers.get(ERROR_HEADER, "")
        try:
            raise QueryError(int(code), detail)
        except ValueError:
            raise QueryError(500, f"{code}: {detail}") from None
