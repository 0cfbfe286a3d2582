"""State behind one repository interface: MongoDB (production) and SQLite (embedded)."""

from .base import (
    AlreadyExists,
    Collection,
    Conflict,
    NotFound,
    Record,
    Store,
    StoreError,
)

__all__ = ["AlreadyExists", "Collection", "Conflict", "NotFound", "Record", "Store", "StoreError"]
