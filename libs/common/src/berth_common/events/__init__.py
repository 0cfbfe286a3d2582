"""Event envelope and the typed registry of event, command and query models."""

from .envelope import Envelope, new_id, utcnow
from .registry import (
    MessageRejected,
    MessageSpec,
    QuerySpec,
    Registry,
    command,
    errors_text,
    event,
    query,
    registry,
)

__all__ = [
    "Envelope",
    "MessageRejected",
    "MessageSpec",
    "QuerySpec",
    "Registry",
    "command",
    "errors_text",
    "event",
    "new_id",
    "query",
    "registry",
    "utcnow",
]
