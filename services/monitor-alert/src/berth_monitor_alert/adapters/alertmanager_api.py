"""Push silences to Alertmanager's API v2 (every configured instance of an HA pair)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp

from ..domain.silences import Silence

log = logging.getLogger(__name__)


class AlertmanagerError(RuntimeError):
    pass


async def push_silence(urls: Sequence[str], silence: Silence, *, http_timeout: float = 5.0) -> dict[str, str]:
    """POST /api/v2/silences on each Alertmanager; returns {url: silenceID}. Errors on one
    instance are logged and skipped (the silence still holds inside Berth)."""
    ids: dict[str, str] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_timeout)) as http:
        for url in urls:
            try:
                async with http.post(f"{url.rstrip('/')}/api/v2/silences", json=silence.to_alertmanager()) as resp:
                    if resp.status != 200:
                        raise AlertmanagerError(f"HTTP {resp.status}: {(await resp.text())[:200]}")
                    ids[url] = str((await resp.json())["silenceID"])
            except (aiohttp.ClientError, AlertmanagerError, KeyError, ValueError, TimeoutError) as exc:
                log.warning("could not push silence %s to %s: %s", silence.id, url, exc)
    return ids


async def expire_silence(ids: dict[str, str], *, http_timeout: float = 5.0) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_timeout)) as http:
        for url, sid in ids.items():
            try:
                async with http.delete(f"{url.rstrip('/')}/api/v2/silence/{sid}") as resp:
                    if resp.status != 200:
                        raise AlertmanagerError(f"HTTP {resp.status}")
            except (aiohttp.ClientError, AlertmanagerError, TimeoutError) as exc:
                log.warning("could not expire silence %s on %s: %s", sid, url, exc)


class Alertmanagers:
    """The Alertmanagers silences are pushed to (each instance of an HA pair); none is fine."""

    def __init__(self, urls: Sequence[str] = (), *, http_timeout: float = 5.0) -> None:
        self.urls = [u for u in urls if u]
        self.http_timeout = http_timeout

    async def push(self, silence: Silence) -> dict[str, str]:
        return await push_silence(self.urls, silence, http_timeout=self.http_timeout) if self.urls else {}

    async def expire(self, ids: dict[str, str]) -> None:
        await expire_silence(ids, http_timeout=self.http_timeout)
