"""open_store(url): the adapter a store URL names.

- ``sqlite:///relative/file.db`` or ``sqlite:////absolute/file.db`` (SQLAlchemy's
  convention: the path follows the third slash); :func:`sqlite_url` builds one.
- ``mongodb://[user:pass@]host[:port][/database][?options]`` (or ``mongodb+srv://``);
  the database defaults to ``berth``. A service's store (``service=``) is its own database,
  ``<database>_<service>``: services share one server, never a collection (two services both
  keep a ``clusters`` collection, and each outbox relay publishes what its collections hold).
- ``memory://``: a fresh in-process MemoryStore.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .base import Store
from .memory import MemoryStore
from .mongo import MongoStore
from .sqlite import SqliteStore

DEFAULT_MONGO_DATABASE = "berth"


def sqlite_url(path: str | Path) -> str:
    """The store URL of a SQLite file (absolute paths get the fourth slash)."""
    return f"sqlite:///{path}"


def mongo_database(url: str, *, default: str = DEFAULT_MONGO_DATABASE) -> str:
    path = unquote(urlsplit(url).path).strip("/")
    return path or default


def service_database(database: str, service: str) -> str:
    return f"{database}_{service.replace('-', '_')}"


def open_store(url: str, *, service: str | None = None, default_database: str = DEFAULT_MONGO_DATABASE) -> Store:
    if not isinstance(url, str) or "://" not in url:
        raise ValueError("store url must look like sqlite:///data/berth.db, mongodb://host/berth or memory://")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        rest = url[len("sqlite://") :]
        if not rest.startswith("/") or len(rest) < 2:
            raise ValueError("sqlite store url needs a file path: sqlite:///relative.db or sqlite:////abs.db")
        path = unquote(rest[1:].split("?", 1)[0])
        return SqliteStore(path)
    if scheme in ("mongodb", "mongodb+srv"):
        database = mongo_database(url, default=default_database)
        return MongoStore(url, service_database(database, service) if service else database)
    # Never echo the URL: it may carry credentials.
    raise ValueError(f"store url scheme {scheme!r} is not supported (sqlite, mongodb, memory)")
