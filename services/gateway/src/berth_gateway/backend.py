"""What the gateway needs from the bus, and the bus-backed implementation.

The gateway turns HTTP into ``berth.api.<svc>.<op>`` queries and ``berth.cmd.<svc>.<verb>``
commands, and streams ``berth.evt.>`` facts back. Nothing else crosses this seam.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from berth_common.bus import DEAD_LETTERS, Bus, DeadLetter, QueryError
from berth_common.events import Envelope, Registry
from berth_common.events.registry import MessageSpec
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import api
from pydantic import BaseModel, ValidationError

from .problems import ApiError

log = logging.getLogger(__name__)


class Backend(Protocol):
    async def query(self, service: str, op: str, payload: dict[str, Any], *, within: float) -> Any:
        """Reply of the query, or ApiError (503 when nobody offers it, the service's code otherwise)."""

    async def send(self, env: Envelope) -> None:
        """Publish a command envelope (awaits the JetStream ack)."""

    def events(self, *, subjects: Sequence[str], start_seq: int | None) -> AsyncIterator[tuple[int, Envelope]]:
        """Facts from the events stream, from ``start_seq`` (inclusive) or only new ones."""

    def dead_letters(self) -> AsyncIterator[DeadLetter]:
        """Every dead-letter record (those already stored first), then new ones as they come."""


def not_offered(service: str, op: str) -> ApiError:
    return ApiError(503, f"service {service} does not offer op {op} yet", title="Service Unavailable")


def command_spec(registry: Registry, service: str, verb: str) -> MessageSpec:
    """The command model ``service`` accepts for ``verb`` (from its messages module); 503 if none."""
    subject = f"berth.cmd.{service}.{verb}"
    for spec in registry:
        if spec.kind == "command" and spec.subject == subject:
            return spec
    raise not_offered(service, verb)


def command_envelope(spec: MessageSpec, payload: BaseModel, **attrs: Any) -> Envelope:
    return Envelope(source="gateway", type=spec.type, data=payload.model_dump(mode="json"), **attrs)


class BusBackend:
    """The real backend: a connected ``berth_common.bus.Bus``."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def query(self, service: str, op: str, payload: dict[str, Any], *, within: float) -> Any:
        try:
            return await self.bus.request(service, op, payload, timeout=within)
        except QueryError as exc:
            if exc.code == 503:
                raise not_offered(service, op) from None
            if exc.code == 504:
                raise ApiError(504, f"service {service} did not answer {op} within {within:g}s") from None
            if 400 <= exc.code < 500:
                raise ApiError(exc.code, exc.detail) from None
            raise ApiError(502, f"{service} failed to answer {op}: {exc.detail}") from None

    async def send(self, env: Envelope) -> None:
        await self.bus.publish(env)

    async def events(self, *, subjects: Sequence[str], start_seq: int | None) -> AsyncIterator[tuple[int, Envelope]]:
        async for seq, env in self.bus.events(subjects=list(subjects), start_seq=start_seq):
            yield seq, env

    async def dead_letters(self, *, heartbeat: float = 5.0) -> AsyncIterator[DeadLetter]:
        sub = await self.bus.js.subscribe(
            "berth.dlq.>",
            stream=DEAD_LETTERS,
            ordered_consumer=True,
            config=api.ConsumerConfig(deliver_policy=api.DeliverPolicy.ALL),
            idle_heartbeat=heartbeat,
        )
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=heartbeat * 2)
                except NatsTimeoutError:
                    continue
                if not msg.reply:
                    continue  # a flow-control or heartbeat message
                try:
                    yield DeadLetter.model_validate_json(msg.data)
                except ValidationError:
                    log.warning("skipping a malformed dead-letter record on %s", msg.subject)
        finally:
            try:
                await sub.unsubscribe()
            except Exception:  # the connection may be gone already
                log.debug("unsubscribing from dead letters failed", exc_info=True)
