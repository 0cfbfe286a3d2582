"""Dead-letter records: what was delivered, why it failed, and how to read them back."""

from __future__ import annotations

import base64
import collections
from datetime import datetime

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext, api
from pydantic import BaseModel, ConfigDict, Field

from ..events import utcnow
from .streams import DEAD_LETTERS, DLQ_PREFIX


class DeadLetter(BaseModel):
    """One terminated message, as stored on ``berth.dlq.<service>.<consumer>``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    service: str
    consumer: str
    subject: str
    headers: dict[str, str] = Field(default_factory=dict)
    data: str
    data_base64: bool = False
    error: str
    delivery_count: int
    stream_seq: int
    time: datetime = Field(default_factory=utcnow)
    dlq_seq: int | None = None

    def original_bytes(self) -> bytes:
        return base64.b64decode(self.data) if self.data_base64 else self.data.encode()


def dead_letter_subject(service: str, consumer: str) -> str:
    return f"{DLQ_PREFIX}{service}.{consumer}"


def record_for(msg: Msg, *, service: str, consumer: str, error: str) -> DeadLetter:
    md = msg.metadata
    try:
        text, is_b64 = msg.data.decode(), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(msg.data).decode(), True
    return DeadLetter(
        service=service,
        consumer=consumer,
        subject=msg.subject,
        headers=dict(msg.headers or {}),
        data=text,
        data_base64=is_b64,
        error=error,
        delivery_count=md.num_delivered,
        stream_seq=md.sequence.stream,
    )


async def read_dead_letters(js: JetStreamContext, *, service: str | None = None, limit: int = 100) -> list[DeadLetter]:
    """The newest ``limit`` records (oldest first), optionally of one service only."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    subject = f"{DLQ_PREFIX}{service}.>" if service else f"{DLQ_PREFIX}>"
    sub = await js.pull_subscribe(
        subject,
        stream=DEAD_LETTERS,
        config=api.ConsumerConfig(
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.ALL,
            inactive_threshold=30.0,
            mem_storage=True,
        ),
    )
    out: collections.deque[DeadLetter] = collections.deque(maxlen=limit)
    try:
        remaining = (await sub.consumer_info()).num_pending or 0
        while remaining > 0:
            try:
                msgs = await sub.fetch(batch=min(remaining, 256), timeout=2.0)
            except NatsTimeoutError:
                break
            for m in msgs:
                remaining -= 1
                record = DeadLetter.model_validate_json(m.data)
                out.append(record.model_copy(update={"dlq_seq": m.metadata.sequence.stream}))
    finally:
        await sub.unsubscribe()
    return list(out)
