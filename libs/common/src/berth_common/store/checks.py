"""Input checks shared by every adapter: bad input gets a clear error naming the bad
field and never reaches the database."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .base import InvalidInput

COLLECTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
MAX_KEY_LENGTH = 512
MAX_LIMIT = 10_000

Scalar = str | int | float | bool | None


def check_collection_name(name: str) -> str:
    if not isinstance(name, str) or not COLLECTION_NAME.match(name):
        raise InvalidInput(
            f"collection name {name!r} is invalid: use a letter then up to 62 letters, digits, '_' or '-'"
        )
    return name


def check_key(collection: str, key: str) -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInput(f"{collection}: key must be a non-empty string, got {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"{collection}: key is {len(key)} characters; at most {MAX_KEY_LENGTH}")
    if "\x00" in key:
        raise InvalidInput(f"{collection}: key {key!r} contains a NUL character")
    return key


def canonical_data(collection: str, key: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """A deep JSON copy of ``data`` (tuples become lists; no aliasing of the caller's
    objects); ValueError naming the record if it is not a JSON object."""
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{collection}/{key}: data must be a mapping, got {type(data).__name__}")
    try:
        text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{collection}/{key}: data is not JSON-serialisable: {exc}") from exc
    out: dict[str, Any] = json.loads(text)
    return out


def check_where(collection: str, where: Mapping[str, Any] | None) -> dict[str, Scalar]:
    """Equality filters on top-level data fields; values must be JSON scalars.

    ``None`` matches a field that is null or absent (MongoDB's rule, applied by every
    adapter). Booleans match only booleans, numbers match numbers (1 == 1.0).
    """
    if where is None:
        return {}
    if not isinstance(where, Mapping):
        raise InvalidInput(f"{collection}: where must be a mapping, got {type(where).__name__}")
    out: dict[str, Scalar] = {}
    for field, value in where.items():
        if not isinstance(field, str) or not FIELD_NAME.match(field):
            raise InvalidInput(
                f"{collection}: where field {field!r} is invalid: a top-level data field name "
                "(letters, digits, '_' or '-', not starting with a digit or '-')"
            )
        if value is not None and not isinstance(value, str | int | float | bool):
            raise InvalidInput(
                f"{collection}: where[{field!r}] must be a string, number, boolean or None, got {type(value).__name__}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"{collection}: where[{field!r}] must be a finite number")
        out[field] = value
    return out


def check_limit(collection: str, limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"{collection}: limit must be an integer in 1..{MAX_LIMIT}, got {limit!r}")
    return limit


def check_after(collection: str, after: str | None) -> str | None:
    if after is not None and not isinstance(after, str):
        raise InvalidInput(f"{collection}: after must be a key (string), got {type(after).__name__}")
    return after


def check_version(collection: str, key: str, version: int | None, *, name: str) -> None:
    if version is None:
        return
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InvalidInput(f"{collection}/{key}: {name} must be a positive integer, got {version!r}")


def matches(data: Mapping[str, Any], where: Mapping[str, Scalar]) -> bool:
    """The ``where`` rule evaluated in Python (MemoryStore; the others compile it)."""
    for field, want in where.items():
        have = data.get(field)
        if want is None:
            if have is not None:
                return False
        elif isinstance(want, bool) or isinstance(have, bool):
            if not (isinstance(want, bool) and isinstance(have, bool) and want == have):
                return False
        elif isinstance(want, int | float):
            if not isinstance(have, int | float) or have != want:
                return False
        elif have != want:
            return False
    return True
