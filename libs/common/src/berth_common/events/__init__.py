"""Event envelope and the typed registry of event and command models."""

from .envelope import Envelope, new_id, utcnow
from .registry import MessageRejected, MessageSpec, Registry, command, event, registry

__all__ = [
    "Envelope",
    "MessageRejected",
    "MessageSpec",
    "Registry",
    "command",
    "event",
    "new_id",
    "registry",
    "utcnow",
]
