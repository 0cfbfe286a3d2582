"""How release-orchestrator reaches a tenant cluster: a kubeconfig per cluster from
``BERTH_RO_KUBECONFIG_DIR/<cluster>.kubeconfig``, one ``BERTH_RO_KUBECONFIG`` for every
cluster (the embedded single-cluster default), else cluster-manager's ``get-kubeconfig``
query. API clients are cached per cluster and replaced when the kubeconfig changes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import new_client_from_config_dict

from .kube import Workloads

AskClusterManager = Callable[[str, str], Awaitable[str]]  # (tenant, cluster) -> kubeconfig text


class ClusterUnreachable(RuntimeError):
    """No kubeconfig for a cluster; the message says where it was looked for."""


class Clusters:
    def __init__(self, *, kubeconfig: str = "", kubeconfig_dir: str = "", ask: AskClusterManager | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.kubeconfig_dir = kubeconfig_dir
        self.ask = ask
        self._clients: dict[str, tuple[str, ApiClient]] = {}
        self._lock = asyncio.Lock()

    async def _text(self, tenant: str, cluster: str) -> str:
        if self.kubeconfig_dir:
            path = Path(self.kubeconfig_dir) / f"{cluster}.kubeconfig"
            if await asyncio.to_thread(path.is_file):
                return await asyncio.to_thread(path.read_text)
        if self.kubeconfig:
            return await asyncio.to_thread(Path(self.kubeconfig).read_text)
        if self.ask is not None:
            return await self.ask(tenant, cluster)
        raise ClusterUnreachable(
            f"cluster {cluster}: no kubeconfig (set BERTH_RO_KUBECONFIG_DIR with {cluster}.kubeconfig, "
            "or BERTH_RO_KUBECONFIG, or run cluster-manager)"
        )

    async def client(self, tenant: str, cluster: str) -> ApiClient:
        text = await self._text(tenant, cluster)
        digest = hashlib.sha256(text.encode()).hexdigest()
        async with self._lock:
            cached = self._clients.get(cluster)
            if cached is not None and cached[0] == digest:
                return cached[1]
            try:
                data: Any = yaml.safe_load(text)
            except yaml.YAMLError:
                raise ClusterUnreachable(f"cluster {cluster}: the kubeconfig is not valid YAML") from None
            if not isinstance(data, dict) or not data.get("clusters"):
                raise ClusterUnreachable(f"cluster {cluster}: the kubeconfig has no clusters")
            api = await new_client_from_config_dict(data)
            self._clients[cluster] = (digest, api)
            if cached is not None:
                await cached[1].close()
            return api

    async def workloads(self, tenant: str, cluster: str, namespace: str) -> Workloads:
        return Workloads(await self.client(tenant, cluster), namespace=namespace, cluster=cluster)

    async def close(self) -> None:
        async with self._lock:
            for _, api in self._clients.values():
                await api.close()
            self._clients.clear()
