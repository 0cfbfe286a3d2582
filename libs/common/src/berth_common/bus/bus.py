# ruff: noqa: ASYNC109  (the Bus API takes timeout= arguments by design, like nats-py)
"""The Bus: one service's connection to NATS JetStream.

Declare handlers and queries with decorators (no I/O), then ``connect``, ``provision``,
``start``; ``drain`` and ``close`` on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal, TypeVar

import nats
from nats.aio.client import Client
from nats.aio.client import Server as NatsServerEntry
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext, api
from opentelemetry import trace
from pydantic import BaseModel, ValidationError

from ..events import Envelope, QuerySpec, Registry, errors_text
from ..events import registry as default_registry
from . import metrics
from .consumer import PullConsumer
from .deadletter import DeadLetter, read_dead_letters
from .errors import NotConnected, QueryError
from .handlers import HandlerSpec, QueryFunc
from .queries import QueryServer, api_subject, check_op, decode_request, raise_for_error
from .streams import EVENTS, StreamConfig, provision, stream_for_subject
from .tracing import TRACER, inject_headers

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
_SERVICE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


class Bus:
    def __init__(
        self,
        *,
        service: str,
        registry: Registry | None = None,
        streams: StreamConfig | None = None,
        version: str = "0.1.0",
    ) -> None:
        if not service or not set(service) <= _SERVICE_NAME_CHARS or service[0] == "-":
            raise ValueError(
                f"service name {service!r} must be lowercase letters, digits and '-' "
                "(it is used in subjects and consumer names)"
            )
        self.service = service
        self.registry = registry if registry is not None else default_registry
        self.streams = streams or StreamConfig()
        self.version = version
        self.source = f"/berth/{service}"
        self._handlers: dict[str, HandlerSpec] = {}
        self._queries: dict[str, QueryFunc] = {}
        self._consumers: list[PullConsumer] = []
        self._query_server: QueryServer | None = None
        self._nc: Client | None = None
        self._closing = False
        self._js: JetStreamContext | None = None
        self._published = metrics.MESSAGES_PUBLISHED.labels(service)

    # -- declarations -----------------------------------------------------------------

    def handler(
        self,
        target: type[BaseModel] | str,
        *,
        model: type[BaseModel] | None = None,
        concurrency: int = 8,
        max_deliver: int = 10,
        ack_wait: float = 30.0,
        retry_base: float = 1.0,
        retry_max: float = 60.0,
        deliver: Literal["all", "new"] = "all",
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Declare a handler for a registered model class, or for a raw subject.

        ``@bus.handler(ClusterCreate)`` calls ``func(payload, ctx)``; ``@bus.handler(
        "berth.evt.cluster.>")`` calls ``func(envelope, ctx)`` (or the payload validated
        with ``model=`` when given). The durable consumer is ``<service>-<name>`` where
        ``name`` defaults to the function's name.
        """
        if isinstance(target, str):
            subject, type_, msg_model = target, None, model
        else:
            spec = self.registry.spec_for(target)
            subject, type_, msg_model = spec.subject, spec.type, target

        def deco(func: F) -> F:
            handler_name = name or func.__name__
            hs = HandlerSpec(
                func=func,
                name=handler_name,
                subject=subject,
                stream=stream_for_subject(subject),
                model=msg_model,
                type=type_,
                concurrency=concurrency,
                max_deliver=max_deliver,
                ack_wait=ack_wait,
                retry_base=retry_base,
                retry_max=retry_max,
                deliver=deliver,
            )
            if handler_name in self._handlers:
                raise ValueError(f"{self.service} declares handler {handler_name!r} twice")
            if self._consumers:
                raise RuntimeError("declare handlers before bus.start()")
            self._handlers[handler_name] = hs
            return func

        return deco

    def query(self, target: str | type[BaseModel]) -> Callable[[F], F]:
        """Declare a query answered on ``berth.api.<service>.<op>``.

        ``target`` is a request model registered with ``@query`` in the schema (the handler then
        takes the validated request and returns the reply model, or what validates as one; a bad
        request is answered 400 naming its fields), or a bare op name for untyped internal queries
        such as ``info``."""
        if isinstance(target, str):
            op, typed = check_op(target), None
        else:
            typed = self.registry.query_for(target)
            if typed.service != self.service:
                raise ValueError(f"{self.service} cannot answer {typed.service}'s query {typed.op}")
            op = typed.op

        def deco(func: F) -> F:
            if op in self._queries:
                raise ValueError(f"{self.service} declares query {op!r} twice")
            self._queries[op] = func if typed is None else _typed_query(typed, func)
            return func

        return deco

    @property
    def queries(self) -> list[str]:
        """The query ops this service answers."""
        return sorted(self._queries)

    @property
    def handlers(self) -> dict[str, HandlerSpec]:
        return dict(self._handlers)

    @property
    def subjects(self) -> list[str]:
        """Subjects this service consumes and answers (for docs and the info query)."""
        return [h.subject for h in self._handlers.values()] + [api_subject(self.service, op) for op in self._queries]

    def durable_name(self, handler_name: str) -> str:
        return f"{self.service}-{handler_name}"

    # -- connection -------------------------------------------------------------------

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise NotConnected(f"bus of {self.service} is not connected; call connect() first")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise NotConnected(f"bus of {self.service} is not connected; call connect() first")
        return self._js

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(
        self,
        *,
        servers: Sequence[str] | str,
        name: str | None = None,
        connect_timeout: float = 2.0,
        max_wait: float | None = None,
        publish_timeout: float = 5.0,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        """Connect, retrying with backoff (forever unless ``max_wait``); reconnects forever."""
        self._closing = False
        urls = [servers] if isinstance(servers, str) else list(servers)
        if not urls:
            raise ValueError("servers must name at least one NATS URL")
        loop = asyncio.get_running_loop()
        deadline = None if max_wait is None else loop.time() + max_wait
        attempt = 0
        while True:
            try:
                self._nc = await nats.connect(
                    servers=urls,
                    name=name or self.service,
                    user=user,
                    password=password,
                    connect_timeout=max(1, round(connect_timeout)),
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_to_server_handler=_reconnect_backoff,
                    reconnected_cb=self._on_reconnected,
                    disconnected_cb=self._on_disconnected,
                    error_cb=self._on_error,
                    ping_interval=10,
                    max_outstanding_pings=3,
                    pending_size=16 * 1024 * 1024,
                )
                break
            except Exception as exc:
                attempt += 1
                delay = min(5.0, 0.1 * 2**attempt) * random.uniform(0.8, 1.0)
                if deadline is not None and loop.time() + delay > deadline:
                    raise ConnectionError(f"could not connect to NATS at {', '.join(urls)}: {exc!r}") from exc
                log.warning("NATS at %s not reachable (%r); retrying", ", ".join(urls), exc)
                await asyncio.sleep(delay)
        self._js = self._nc.jetstream(timeout=publish_timeout)

    async def _on_reconnected(self) -> None:
        log.info("%s: reconnected to NATS", self.service)
        for c in self._consumers:
            c.reset()

    async def _on_disconnected(self) -> None:
        if self._closing:
            return
        log.warning("%s: disconnected from NATS", self.service)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("%s: NATS: %r", self.service, exc)

    async def ping(self, timeout: float = 2.0) -> None:
        """Raise unless NATS answers a PING within ``timeout`` (for readiness)."""
        if not self.connected:
            raise NotConnected(f"bus of {self.service} is not connected to NATS")
        await self.nc.flush(timeout=max(1, round(timeout)))

    async def provision(self, config: StreamConfig | None = None) -> None:
        """Create or update the events, commands and dead-letter streams."""
        await provision(self.js, config or self.streams)

    async def start(self) -> None:
        """Create the durable consumers, start consuming, and serve queries."""
        if self._consumers or self._query_server:
            raise RuntimeError(f"bus of {self.service} already started")
        consumers = [PullConsumer(self, hs, durable=self.durable_name(hs.name)) for hs in self._handlers.values()]
        for c in consumers:
            await c.start()
            self._consumers.append(c)
        if self._queries:
            self._query_server = QueryServer(self.service, self._queries)
            await self._query_server.start(self.nc, version=self.version)

    async def drain(self, timeout: float = 25.0) -> None:
        """Stop taking messages, let in-flight handlers finish (ack/nak), stop queries."""
        await asyncio.gather(*(c.drain(timeout) for c in self._consumers))
        self._consumers = []
        if self._query_server is not None:
            await self._query_server.stop()
            self._query_server = None
        if self.connected:
            with contextlib.suppress(Exception):
                await self.nc.flush(timeout=max(1, round(timeout)))

    async def close(self) -> None:
        self._closing = True
        for c in self._consumers:
            await c.stop()
        self._consumers = []
        if self._query_server is not None:
            await self._query_server.stop()
            self._query_server = None
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain() if self._nc.is_connected else await self._nc.close()
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = None
        self._js = None

    # -- publishing -------------------------------------------------------------------

    def _prepare(self, envelope: Envelope) -> tuple[str, bytes, dict[str, str], Envelope]:
        spec = self.registry.spec_for_type(envelope.type)
        self.registry.payload(envelope)  # never publish data that its consumers would reject
        headers = {"Nats-Msg-Id": envelope.id}
        inject_headers(headers, fallback_traceparent=envelope.traceparent)
        if envelope.traceparent is None and "traceparent" in headers:
            envelope = envelope.model_copy(update={"traceparent": headers["traceparent"]})
        return spec.subject, envelope.to_json(), headers, envelope

    async def publish(self, envelope: Envelope, *, timeout: float | None = None) -> Envelope:
        """Publish to JetStream and await its ack; raises on failure. Returns the envelope
        as stored (with ``traceparent`` set when a span was active)."""
        subject, body, headers, envelope = self._prepare(envelope)
        await self.js.publish(subject, body, headers=headers, timeout=timeout)
        self._published.inc()
        return envelope

    async def publish_many(self, envelopes: Iterable[Envelope], *, timeout: float = 10.0) -> list[Envelope]:
        """Publish many envelopes with their acks awaited together (much faster than one
        by one). Raises ``PublishFailed`` naming the envelopes JetStream did not ack."""
        prepared = [self._prepare(e) for e in envelopes]
        futures = [
            await self.js.publish_async(subject, body, headers=headers) for subject, body, headers, _ in prepared
        ]
        _, pending = await asyncio.wait(futures, timeout=timeout) if futures else (set(), set())
        failed = [
            prepared[i][3].id
            for i, f in enumerate(futures)
            if f in pending or f.cancelled() or f.exception() is not None
        ]
        for f in pending:
            f.cancel()
        self._published.inc(len(prepared) - len(failed))
        if failed:
            raise PublishFailed(failed)
        return [p[3] for p in prepared]

    async def emit(
        self,
        payload: BaseModel,
        *,
        tenant: str,
        subject: str | None = None,
        **attrs: Any,
    ) -> Envelope:
        """Wrap a registered payload model in an envelope of its type and publish it."""
        attrs.setdefault("source", self.source)
        env = self.registry.envelope(payload, tenant=tenant, subject=subject, **attrs)
        return await self.publish(env)

    # -- queries ----------------------------------------------------------------------

    async def request(
        self, service: str, op: str, payload: dict[str, Any] | None = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Ask ``berth.api.<service>.<op>``; raises QueryError on an error reply, 503 when
        no replica answers, 504 on timeout."""
        subject = api_subject(service, check_op(op))
        with TRACER.start_as_current_span(
            f"{service}.{op}", kind=trace.SpanKind.CLIENT, attributes={"rpc.service": service}
        ):
            headers: dict[str, str] = {}
            inject_headers(headers)
            body = json.dumps(payload or {}).encode()
            try:
                msg = await self.nc.request(subject, body, timeout=timeout, headers=headers)
            except NoRespondersError:
                raise QueryError(503, f"no {service} replica answers {subject}") from None
            except (NatsTimeoutError, TimeoutError):
                raise QueryError(504, f"{subject} did not answer within {timeout}s") from None
        raise_for_error(msg.headers)
        try:
            return decode_request(msg.data)
        except QueryError as exc:
            raise QueryError(502, f"bad reply from {subject}: {exc.detail}") from None

    async def ask(self, request: BaseModel, *, timeout: float = 5.0) -> Any:
        """A typed query: send a registered request model, get its reply model back
        (502 when the reply does not match the schema)."""
        spec = self.registry.query_for(request)
        reply = await self.request(spec.service, spec.op, request.model_dump(mode="json"), timeout=timeout)
        try:
            return spec.reply.model_validate(reply)
        except ValidationError as exc:
            raise QueryError(502, f"{spec.subject} answered outside its schema: {errors_text(exc)}") from None

    # -- reading ----------------------------------------------------------------------

    async def events(
        self,
        *,
        subjects: Sequence[str] = ("berth.evt.>",),
        start_seq: int | None = None,
        heartbeat: float = 5.0,
    ) -> AsyncIterator[tuple[int, Envelope]]:
        """Follow facts with an ephemeral ordered consumer, yielding (stream seq, envelope).

        ``start_seq`` resumes at that stream sequence (inclusive); None starts with new
        facts. Messages that are not valid envelopes are skipped."""
        if not subjects:
            raise ValueError("subjects must name at least one subject")
        for s in subjects:
            if stream_for_subject(s) != EVENTS:
                raise ValueError(f"events() follows berth.evt.* subjects only, got {s!r}")
        config = api.ConsumerConfig(
            deliver_policy=(api.DeliverPolicy.NEW if start_seq is None else api.DeliverPolicy.BY_START_SEQUENCE),
            opt_start_seq=start_seq,
            filter_subjects=list(subjects) if len(subjects) > 1 else None,
        )
        sub = await self.js.subscribe(
            subjects[0],
            stream=EVENTS,
            ordered_consumer=True,
            config=config,
            idle_heartbeat=heartbeat,
        )
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=heartbeat * 2)
                except NatsTimeoutError:
                    continue
                if not msg.reply:
                    continue
                try:
                    env = Envelope.from_json(msg.data)
                except ValueError:
                    log.warning("events(): skipping a non-envelope message on %s", msg.subject)
                    continue
                yield msg.metadata.sequence.stream, env
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def dead_letters(self, *, limit: int = 100, service: str | None = None) -> list[DeadLetter]:
        """The newest ``limit`` dead-letter records (oldest first), of ``service`` if given."""
        return await read_dead_letters(self.js, service=service, limit=limit)


class PublishFailed(RuntimeError):
    """Some envelopes of a ``publish_many`` were not acknowledged by JetStream."""

    def __init__(self, envelope_ids: list[str]) -> None:
        shown = ", ".join(envelope_ids[:5]) + (" ..." if len(envelope_ids) > 5 else "")
        super().__init__(f"{len(envelope_ids)} envelopes not acknowledged: {shown}")
        self.envelope_ids = envelope_ids


def _reconnect_backoff(servers: list[NatsServerEntry], _info: dict[str, Any]) -> tuple[NatsServerEntry | None, float]:
    """Pick the least-failed server; wait longer the more often it failed (max 5 s)."""
    best = min(servers, key=lambda s: s.reconnects)
    return best, min(5.0, 0.05 * 2 ** min(best.reconnects, 10)) * random.uniform(0.8, 1.0)


def _typed_query(spec: QuerySpec, func: Callable[..., Awaitable[Any]]) -> QueryFunc:
    async def answer(payload: dict[str, Any]) -> Any:
        try:
            request = spec.request.model_validate(payload)
        except ValidationError as exc:
            raise QueryError(400, f"invalid {spec.op} request: {errors_text(exc)}") from None
        reply = await func(request)
        if isinstance(reply, spec.reply):
            return reply
        return spec.reply.model_validate(reply)

    return answer
