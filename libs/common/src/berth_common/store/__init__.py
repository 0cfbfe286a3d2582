"""State behind one repository interface: MongoDB (production) and SQLite (embedded)."""

from .base import (
    APPLIED_HISTORY,
    AlreadyExists,
    Collection,
    Conflict,
    InvalidInput,
    NotFound,
    Record,
    Store,
    StoreError,
)
from .factory import open_store, sqlite_url
from .memory import MemoryStore
from .mongo import MongoStore
from .outbox import OutboxRelay, Publish
from .sqlite import SqliteStore
from .unit_of_work import update

__all__ = [
    "APPLIED_HISTORY",
    "AlreadyExists",
    "Collection",
    "Conflict",
    "InvalidInput",
    "MemoryStore",
    "MongoStore",
    "NotFound",
    "OutboxRelay",
    "Publish",
    "Record",
    "SqliteStore",
    "Store",
    "StoreError",
    "open_store",
    "sqlite_url",
    "update",
]
