"""Calls that return the API server's JSON as plain dicts (the domain's input format), skipping
kubernetes_asyncio's model round trip."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

MERGE_PATCH = "application/merge-patch+json"


class KubeError(ApiException):
    """A non-2xx answer; ``message`` is the Status message the API server sent."""

    def __init__(self, status: int, reason: str, body: bytes) -> None:
        super().__init__(status=status, reason=reason)
        self.text = body.decode(errors="replace")
        try:
            self.message = str(json.loads(body).get("message", ""))
        except ValueError:
            self.message = self.text[:300]

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}"


async def call_json(fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    resp = await fn(*args, _preload_content=False, **kwargs)
    try:
        body: bytes = await resp.read()
    finally:
        resp.release()
    if not 200 <= resp.status < 300:
        raise KubeError(resp.status, str(resp.reason), body)
    data: dict[str, Any] = json.loads(body) if body else {}
    return data
