"""The Berth bus on NATS JetStream: streams, handlers, queries, dead letters."""

from .bus import Bus, PublishFailed
from .deadletter import DeadLetter
from .errors import NotConnected, Poison, QueryError, Transient
from .handlers import Context, HandlerSpec
from .streams import COMMANDS, DEAD_LETTERS, EVENTS, StreamConfig

__all__ = [
    "COMMANDS",
    "DEAD_LETTERS",
    "EVENTS",
    "Bus",
    "Context",
    "DeadLetter",
    "HandlerSpec",
    "NotConnected",
    "Poison",
    "PublishFailed",
    "QueryError",
    "StreamConfig",
    "Transient",
]
