"""One kubernetes_asyncio ApiClient per tenant cluster, built from the kubeconfig registered for it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import new_client_from_config_dict


def parse_kubeconfig(text: str) -> dict[str, Any]:
    """Validate a kubeconfig enough to fail early with a clear message (never echoing its secrets)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError("kubeconfig: not valid YAML") from None
    if not isinstance(data, dict) or not data.get("clusters") or not data.get("users"):
        raise ValueError("kubeconfig: expected a Config with clusters and users")
    if not data.get("current-context") and not data.get("contexts"):
        raise ValueError("kubeconfig: no context to use")
    return data


ApiFactory = Callable[[dict[str, Any]], Awaitable[ApiClient]]


async def api_from_kubeconfig(config: dict[str, Any]) -> ApiClient:
    return await new_client_from_config_dict(config)


class Connections:
    """A cache of API clients keyed by cluster; a changed kubeconfig replaces the client.
    ``factory`` makes a client from a parsed kubeconfig."""

    def __init__(self, factory: ApiFactory = api_from_kubeconfig) -> None:
        self._factory = factory
        self._clients: dict[str, tuple[str, ApiClient]] = {}
        self._lock = asyncio.Lock()

    async def client(self, cluster: str, kubeconfig: str) -> ApiClient:
        digest = hashlib.sha256(kubeconfig.encode()).hexdigest()
        async with self._lock:
            cached = self._clients.get(cluster)
            if cached is not None and cached[0] == digest:
                return cached[1]
            api = await self._factory(parse_kubeconfig(kubeconfig))
            self._clients[cluster] = (digest, api)
            if cached is not None:
                await cached[1].close()
            return api

    async def close(self) -> None:
        async with self._lock:
            for _, api in self._clients.values():
                await api.close()
            self._clients.clear()
