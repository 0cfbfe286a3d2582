"""Opaque cursors: base64url of the last key seen on the previous page."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .problems import ApiError

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


def encode_cursor(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": after}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)["a"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ApiError(
            400, "cursor is not one this API returned", errors=[{"field": "cursor", "message": "invalid cursor"}]
        ) from None
    if not isinstance(value, str):
        raise ApiError(400, "cursor is not one this API returned", errors=[{"field": "cursor", "message": "invalid"}])
    return value


def parse_limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= MAX_LIMIT:
        raise ApiError(
            400,
            f"limit must be an integer between 1 and {MAX_LIMIT}",
            errors=[{"field": "limit", "message": f"must be an integer between 1 and {MAX_LIMIT}"}],
        )
    return value


SERVICE_PAGE = 500  # the most a service's list op answers at once (PageQuery.limit)


def service_cursor(reply: Any, items: list[Any], key: str) -> str | None:
    """Where the service's next page starts: its own ``next`` when it says, else the key of the
    last item of this page."""
    nxt = reply.get("next") if isinstance(reply, dict) else None
    if isinstance(nxt, str) and nxt:
        return nxt
    last = items[-1] if items else None
    value = last.get(key) if isinstance(last, dict) else None
    return str(value) if value not in (None, "") else None
