"""Handler declarations and the context a handler receives with each message."""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nats.aio.msg import Msg
from pydantic import BaseModel

from ..events import Envelope

if TYPE_CHECKING:
    from .bus import Bus

HandlerFunc = Callable[[Any, "Context"], Awaitable[None]]
QueryFunc = Callable[[dict[str, Any]], Awaitable[Any]]

_CONSUMER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


@dataclass(frozen=True, kw_only=True)
class HandlerSpec:
    """One declared handler: which subject, which model, and its delivery policy."""

    func: HandlerFunc
    name: str
    subject: str
    stream: str
    model: type[BaseModel] | None
    type: str | None  # the message type a model handler accepts; None for raw handlers
    concurrency: int
    max_deliver: int
    ack_wait: float
    retry_base: float
    retry_max: float
    deliver: Literal["all", "new"]

    def __post_init__(self) -> None:
        if not _CONSUMER_NAME.match(self.name):
            raise ValueError(
                f"handler name {self.name!r} is not a valid consumer name (letters, digits, '-' and '_' only)"
            )
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.max_deliver < 1:
            raise ValueError(f"max_deliver must be >= 1, got {self.max_deliver}")
        if self.ack_wait < 1:
            raise ValueError(f"ack_wait must be >= 1 second, got {self.ack_wait}")
        if not 0 < self.retry_base <= self.retry_max:
            raise ValueError(f"retry_base must be > 0 and <= retry_max, got {self.retry_base} / {self.retry_max}")

    def backoff(self, delivery: int) -> float:
        """Exponential delay before redelivery number ``delivery + 1``, with 10% jitter."""
        delay: float = min(self.retry_max, self.retry_base * 2 ** max(0, delivery - 1))
        return delay * random.uniform(0.9, 1.0)


class Context:
    """What a handler knows about the delivery it is working on."""

    __slots__ = ("_msg", "bus", "consumer", "delivery", "envelope", "stream_seq")

    def __init__(self, *, bus: Bus, envelope: Envelope, msg: Msg, consumer: str) -> None:
        self.bus = bus
        self.envelope = envelope
        self._msg = msg
        md = msg.metadata
        self.delivery: int = md.num_delivered
        self.stream_seq: int = md.sequence.stream
        self.consumer = consumer

    @property
    def subject(self) -> str:
        return self._msg.subject

    async def in_progress(self) -> None:
        """Tell JetStream this message is still being worked on (resets its ack timer)."""
        await self._msg.in_progress()

    def caused(self, **attrs: Any) -> dict[str, Any]:
        """Attributes for an envelope caused by this one: tenant, correlationid, causationid."""
        return self.envelope.caused(**attrs)
