# ruff: noqa: ASYNC109  (drain takes the grace period as timeout=, like Bus.drain)
"""A durable pull consumer that streams messages to a handler with bounded concurrency.

nats-py's ``fetch`` waits for a whole batch (or its expiry) before returning, which adds
up to the fetch timeout to a message's latency. This loop instead keeps long-lived pull
requests open for exactly the free handler slots and dispatches each message the moment
it arrives (the pattern of nats.go's ``Consume``). Idle heartbeats and the client's
reconnect callback detect pull requests the server lost, e.g. across a restart.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import api
from nats.js.errors import NotFoundError
from opentelemetry import trace

from ..events import Envelope, MessageRejected
from . import metrics
from .deadletter import dead_letter_subject, record_for
from .errors import Poison, Transient
from .handlers import Context, HandlerSpec
from .tracing import TRACER, extract_context

if TYPE_CHECKING:
    from .bus import Bus

log = logging.getLogger(__name__)

PULL_EXPIRES = 15.0
PULL_HEARTBEAT = 5.0
_NS = 1_000_000_000


class PullConsumer:
    def __init__(self, bus: Bus, spec: HandlerSpec, *, durable: str) -> None:
        self.bus = bus
        self.spec = spec
        self.durable = durable
        self._labels = (bus.service, spec.name)
        # Bound once: looking label children up per message costs more than the handler.
        self._handled = metrics.MESSAGES_HANDLED.labels(*self._labels)
        self._seconds = metrics.HANDLER_SECONDS.labels(*self._labels)
        self._sub: Subscription | None = None
        self._requested = 0  # messages asked for by pull requests still open on the server
        self._inflight = 0
        self._backlog: collections.deque[Msg] = collections.deque()
        self._running: dict[int, tuple[Msg, float]] = {}  # id(msg) -> (msg, started)
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_activity = time.monotonic()
        self._pause_until = 0.0
        self._draining = False
        self._loops: list[asyncio.Task[None]] = []

    # -- set-up -----------------------------------------------------------------------

    def consumer_config(self) -> api.ConsumerConfig:
        return api.ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            description=f"{self.bus.service} handler {self.spec.name}",
            deliver_policy=(api.DeliverPolicy.ALL if self.spec.deliver == "all" else api.DeliverPolicy.NEW),
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.spec.ack_wait,
            # One delivery beyond the handler's limit, so the bus sees it and dead-letters it
            # (a message whose handler crashed every time never reaches a failure branch).
            max_deliver=self.spec.max_deliver + 1,
            filter_subject=self.spec.subject,
            max_ack_pending=max(1000, self.spec.concurrency * 16),
        )

    async def ensure(self) -> None:
        """Create the durable consumer, or update it to this declaration (idempotent)."""
        await self.bus.js.add_consumer(self.spec.stream, config=self.consumer_config())

    async def start(self) -> None:
        await self.ensure()
        self._sub = await self.bus.nc.subscribe(
            self.bus.nc.new_inbox(), cb=self._on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1
        )
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._pull_loop(), name=f"bus-pull-{self.durable}"),
            loop.create_task(self._heartbeat_loop(), name=f"bus-wpi-{self.durable}"),
        ]
        self._wake.set()

    def reset(self) -> None:
        """Forget open pull requests (the server lost them) and ask again."""
        self._requested = 0
        self._last_activity = time.monotonic()
        self._wake.set()

    # -- pulling ----------------------------------------------------------------------

    def _free_slots(self) -> int:
        return self.spec.concurrency - self._inflight - len(self._backlog) - self._requested

    async def _pull_loop(self) -> None:
        while not self._draining:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=PULL_HEARTBEAT)
            self._wake.clear()
            if self._draining:
                return
            now = time.monotonic()
            if self._requested > 0 and now - self._last_activity > 2.5 * PULL_HEARTBEAT:
                log.warning("%s: no heartbeat from open pull requests; pulling again", self.durable)
                await self._check_consumer()
                self._requested = 0
            if now < self._pause_until:
                await asyncio.sleep(self._pause_until - now)
            try:
                await self._pull()
            except Exception as exc:  # connection closing or reconnecting: try again shortly
                log.warning("%s: pull request failed: %r", self.durable, exc)
                self._pause_until = time.monotonic() + 1.0
                self._wake.set()

    async def _pull(self) -> None:
        free = self._free_slots()
        if free <= 0 or not self.bus.nc.is_connected:
            return
        # Top up only when a good share of slots is free, to keep pull requests few.
        if self._requested > 0 and free < max(1, self.spec.concurrency // 4):
            return
        assert self._sub is not None
        req = {
            "batch": free,
            "expires": int(PULL_EXPIRES * _NS),
            "idle_heartbeat": int(PULL_HEARTBEAT * _NS),
        }
        self._requested += free
        self._last_activity = time.monotonic()
        await self.bus.nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self.spec.stream}.{self.durable}",
            json.dumps(req).encode(),
            reply=self._sub.subject,
        )

    async def _check_consumer(self) -> None:
        try:
            await self.bus.js.consumer_info(self.spec.stream, self.durable)
        except NotFoundError:
            log.warning("%s: consumer is gone; creating it again", self.durable)
            with contextlib.suppress(Exception):
                await self.ensure()
        except Exception as exc:
            log.warning("%s: consumer check failed: %r", self.durable, exc)

    async def _on_msg(self, msg: Msg) -> None:
        self._last_activity = time.monotonic()
        if not msg.reply:  # a status message about our pull requests
            self._on_status(msg)
            return
        self._requested = max(0, self._requested - 1)
        if self._draining:
            with contextlib.suppress(Exception):
                await msg.nak()
            return
        if self._inflight >= self.spec.concurrency:
            self._backlog.append(msg)
            return
        self._dispatch(msg)

    def _on_status(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status", "")
        if status == "100":  # idle heartbeat
            return
        pending = headers.get("Nats-Pending-Messages")
        if status in ("404", "408", "409") and pending is not None:
            self._requested = max(0, self._requested - int(pending))
        else:
            # 503 (JetStream unavailable), 409 leadership change / consumer deleted, ...
            log.info("%s: pull status %s %s", self.durable, status, headers.get("Description", ""))
            self._requested = 0
            self._pause_until = time.monotonic() + (0.0 if status in ("404", "408") else 0.5)
            if status == "409" and "Deleted" in headers.get("Description", ""):
                self._last_activity = 0.0  # make the pull loop re-check the consumer
        self._wake.set()

    # -- handling ---------------------------------------------------------------------

    def _dispatch(self, msg: Msg) -> None:
        self._inflight += 1
        self._idle.clear()
        task = asyncio.get_running_loop().create_task(self._handle(msg))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._inflight -= 1
        while self._backlog and self._inflight < self.spec.concurrency:
            msg = self._backlog.popleft()
            if self._draining:
                asyncio.get_running_loop().create_task(_nak_quietly(msg))
            else:
                self._dispatch(msg)
        if self._inflight == 0:
            self._idle.set()
        if not self._draining:
            self._wake.set()

    async def _handle(self, msg: Msg) -> None:
        started = time.perf_counter()
        self._running[id(msg)] = (msg, time.monotonic())
        spec = self.spec
        try:
            delivery = msg.metadata.num_delivered
            payload: object
            try:
                if spec.type is not None:
                    env, payload = self.bus.registry.parse(msg.data)
                    if env.type != spec.type:
                        # Another registered type on the same subject (e.g. another version).
                        await msg.ack()
                        return
                else:
                    env = Envelope.from_json(msg.data)
                    payload = env if spec.model is None else spec.model.model_validate(env.data)
            except Exception as exc:
                reason = exc.reason if isinstance(exc, MessageRejected) else _short(exc)
                metrics.MESSAGES_FAILED.labels(*self._labels, "rejected").inc()
                await self._dead_letter(msg, f"rejected: {reason}")
                return
            parent = extract_context(msg.headers, fallback_traceparent=env.traceparent)
            with TRACER.start_as_current_span(
                spec.name,
                context=parent,
                kind=trace.SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.destination.name": msg.subject,
                    "messaging.message.id": env.id,
                    "messaging.consumer.group.name": self.durable,
                    "berth.delivery": delivery,
                },
            ) as span:
                if delivery > spec.max_deliver:
                    metrics.MESSAGES_FAILED.labels(*self._labels, "max_deliver").inc()
                    await self._dead_letter(
                        msg,
                        f"delivered {delivery} times without an ack (handler crashed or "
                        f"exceeded ack_wait={spec.ack_wait}s); max_deliver={spec.max_deliver}",
                    )
                    return
                ctx = Context(bus=self.bus, envelope=env, msg=msg, consumer=self.durable)
                try:
                    await spec.func(payload, ctx)
                except Poison as exc:
                    span.set_status(trace.StatusCode.ERROR, exc.reason)
                    metrics.MESSAGES_FAILED.labels(*self._labels, "poison").inc()
                    await self._dead_letter(msg, f"poison: {exc.reason}")
                except MessageRejected as exc:
                    span.set_status(trace.StatusCode.ERROR, exc.reason)
                    metrics.MESSAGES_FAILED.labels(*self._labels, "rejected").inc()
                    await self._dead_letter(msg, f"rejected: {exc.reason}")
                except Transient as exc:
                    span.set_status(trace.StatusCode.ERROR, exc.reason)
                    metrics.MESSAGES_FAILED.labels(*self._labels, "transient").inc()
                    await self._retry(msg, delivery, f"transient: {exc.reason}", exc.delay)
                except asyncio.CancelledError:
                    with contextlib.suppress(Exception):
                        await msg.nak()
                    raise
                except Exception as exc:
                    span.record_exception(exc)
                    span.set_status(trace.StatusCode.ERROR, _short(exc))
                    log.exception("%s: handler failed on %s (delivery %d)", self.durable, env.id, delivery)
                    metrics.MESSAGES_FAILED.labels(*self._labels, "error").inc()
                    await self._retry(msg, delivery, f"error: {_short(exc)}", None)
                else:
                    await msg.ack()
                    self._handled.inc()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # acking failed (connection lost): JetStream redelivers
            log.warning("%s: could not settle a message: %r", self.durable, exc)
        finally:
            self._running.pop(id(msg), None)
            self._seconds.observe(time.perf_counter() - started)

    async def _retry(self, msg: Msg, delivery: int, reason: str, delay: float | None) -> None:
        if delivery >= self.spec.max_deliver:
            await self._dead_letter(msg, f"{reason} (gave up after {delivery} deliveries; max_deliver reached)")
            return
        await msg.nak(delay=delay if delay is not None else self.spec.backoff(delivery))

    async def _dead_letter(self, msg: Msg, error: str) -> None:
        """Store a dead-letter record, then terminate; if the record cannot be stored, retry."""
        record = record_for(msg, service=self.bus.service, consumer=self.durable, error=error)
        try:
            await self.bus.js.publish(
                dead_letter_subject(self.bus.service, self.durable),
                record.model_dump_json().encode(),
                headers={"Nats-Msg-Id": f"{self.durable}:{record.stream_seq}"},
            )
        except Exception as exc:
            log.warning("%s: dead-letter write failed (%r); will retry", self.durable, exc)
            await msg.nak(delay=self.spec.backoff(record.delivery_count))
            return
        await msg.term()
        metrics.MESSAGES_DEAD_LETTERED.labels(*self._labels).inc()
        log.warning(
            "%s: dead-lettered stream seq %d on %s: %s",
            self.durable,
            record.stream_seq,
            msg.subject,
            error,
        )

    async def _heartbeat_loop(self) -> None:
        """Send in-progress for handlers running longer than a third of ack_wait."""
        period = self.spec.ack_wait / 3
        while True:
            await asyncio.sleep(period)
            cutoff = time.monotonic() - period
            for msg, since in list(self._running.values()):
                if since <= cutoff:
                    with contextlib.suppress(Exception):
                        await msg.in_progress()

    # -- stopping ---------------------------------------------------------------------

    async def drain(self, timeout: float) -> None:
        """Stop pulling, give back queued messages, let running handlers settle theirs."""
        self._draining = True
        self._wake.set()
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        while self._backlog:
            await _nak_quietly(self._backlog.popleft())
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=timeout)
        except TimeoutError:
            log.warning(
                "%s: %d handlers still running after %.0fs; cancelling (they will be redelivered)",
                self.durable,
                len(self._tasks),
                timeout,
            )
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.stop()

    async def stop(self) -> None:
        self._draining = True
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _nak_quietly(msg: Msg) -> None:
    with contextlib.suppress(Exception):
        await msg.nak()


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."
