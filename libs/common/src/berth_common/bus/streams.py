"""The three JetStream streams Berth runs on, and their idempotent provisioning."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

log = logging.getLogger(__name__)

EVENTS = "BERTH_EVENTS"
COMMANDS = "BERTH_COMMANDS"
DEAD_LETTERS = "BERTH_DLQ"

EVENT_PREFIX = "berth.evt."
COMMAND_PREFIX = "berth.cmd."
DLQ_PREFIX = "berth.dlq."

DAY = 86_400.0


@dataclass(frozen=True, kw_only=True)
class StreamConfig:
    """Knobs of the streams; replicas is 1 locally and 3 in a NATS cluster."""

    replicas: int = 1
    storage: Literal["file", "memory"] = "file"
    duplicate_window: float = 120.0
    events_max_age: float = 7 * DAY
    commands_max_age: float = 7 * DAY
    dead_letters_max_age: float = 30 * DAY

    def __post_init__(self) -> None:
        if self.replicas not in (1, 3, 5):
            raise ValueError(f"replicas must be 1, 3 or 5, got {self.replicas}")
        for name in ("duplicate_window", "events_max_age", "commands_max_age", "dead_letters_max_age"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.duplicate_window > self.events_max_age:
            raise ValueError("duplicate_window must not exceed events_max_age")

    def stream_configs(self) -> list[api.StreamConfig]:
        storage = api.StorageType.FILE if self.storage == "file" else api.StorageType.MEMORY
        common = {
            "storage": storage,
            "num_replicas": self.replicas,
            "duplicate_window": self.duplicate_window,
            "discard": api.DiscardPolicy.OLD,
        }
        return [
            api.StreamConfig(
                name=EVENTS,
                description="Berth facts (berth.evt.<domain>.<event>)",
                subjects=[f"{EVENT_PREFIX}>"],
                retention=api.RetentionPolicy.LIMITS,
                max_age=self.events_max_age,
                **common,  # type: ignore[arg-type]
            ),
            api.StreamConfig(
                name=COMMANDS,
                description="Berth commands (berth.cmd.<service>.<verb>), one consumer per verb",
                subjects=[f"{COMMAND_PREFIX}>"],
                retention=api.RetentionPolicy.WORK_QUEUE,
                max_age=self.commands_max_age,
                **common,  # type: ignore[arg-type]
            ),
            api.StreamConfig(
                name=DEAD_LETTERS,
                description="Dead-letter records (berth.dlq.<service>.<consumer>)",
                subjects=[f"{DLQ_PREFIX}>"],
                retention=api.RetentionPolicy.LIMITS,
                max_age=self.dead_letters_max_age,
                **common,  # type: ignore[arg-type]
            ),
        ]


def stream_for_subject(subject: str) -> str:
    if subject.startswith(EVENT_PREFIX):
        return EVENTS
    if subject.startswith(COMMAND_PREFIX):
        return COMMANDS
    if subject.startswith(DLQ_PREFIX):
        return DEAD_LETTERS
    raise ValueError(f"subject {subject!r} is on no Berth stream; expected berth.evt.*, berth.cmd.* or berth.dlq.*")


async def provision(js: JetStreamContext, config: StreamConfig) -> None:
    """Create each stream, or update it in place when it exists (safe from many replicas)."""
    for cfg in config.stream_configs():
        assert cfg.name is not None
        try:
            await js.stream_info(cfg.name)
        except NotFoundError:
            try:
                await js.add_stream(cfg)
                log.info("created stream %s", cfg.name)
                continue
            except BadRequestError:
                # Another replica created it between our look-up and our create.
                pass
        await js.update_stream(cfg)
