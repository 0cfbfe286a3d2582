"""Prometheus instant queries for metric analysis (GET /api/v1/query)."""

from __future__ import annotations

import aiohttp


class QueryFailed(RuntimeError):
    pass


async def instant(session: aiohttp.ClientSession, base_url: str, query: str, *, within: float = 10.0) -> float | None:
    """The query's single value (scalar, or the first sample of a vector); None when it has no data."""
    url = base_url.rstrip("/") + "/api/v1/query"
    try:
        async with session.get(url, params={"query": query}, timeout=aiohttp.ClientTimeout(total=within)) as resp:
            body = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise QueryFailed(f"prometheus at {base_url}: {type(exc).__name__}: {exc}") from None
    if body.get("status") != "success":
        raise QueryFailed(f"prometheus: {body.get('errorType', 'error')}: {body.get('error', 'query failed')}")
    data = body.get("data", {})
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return float(result[1])
    if kind == "vector":
        if not result:
            return None
        if len(result) > 1:
            raise QueryFailed(f"the query returned {len(result)} series; aggregate it to one (sum, max...)")
        return float(result[0]["value"][1])
    raise QueryFailed(f"the query returned a {kind}; use an instant vector or scalar")
