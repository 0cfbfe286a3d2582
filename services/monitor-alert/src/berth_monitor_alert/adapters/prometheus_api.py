"""Prometheus HTTP API: instant queries for metric-threshold scaling."""

from __future__ import annotations

import aiohttp


class QueryFailed(RuntimeError):
    pass


async def instant_value(base_url: str, query: str, *, http_timeout: float = 5.0) -> float | None:
    """The value of a query that yields one sample (the maximum when several); None when empty."""
    url = f"{base_url.rstrip('/')}/api/v1/query"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_timeout)) as http,
        http.post(url, data={"query": query}) as resp,
    ):
        doc = await resp.json(content_type=None)
    if doc.get("status") != "success":
        raise QueryFailed(f"{doc.get('errorType', 'error')}: {doc.get('error', 'query failed')}")
    data = doc["data"]
    if data["resultType"] == "scalar":
        return float(data["result"][1])
    if data["resultType"] != "vector":
        raise QueryFailed(f"query must return a vector or scalar, got {data['resultType']}")
    values = [float(s["value"][1]) for s in data["result"]]
    return max(values) if values else None


class Prometheus:
    """One Prometheus that metric-threshold scaling policies query."""

    def __init__(self, base_url: str, *, http_timeout: float = 5.0) -> None:
        self.base_url = base_url
        self.http_timeout = http_timeout

    async def value(self, query: str) -> float | None:
        return await instant_value(self.base_url, query, http_timeout=self.http_timeout)
