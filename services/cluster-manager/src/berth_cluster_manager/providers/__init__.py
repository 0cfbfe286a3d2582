"""Cluster providers: ``hosted`` (k8s-on-k8s) and ``local`` (processes)."""

from __future__ import annotations

import os
from pathlib import Path

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import load_incluster_config, new_client_from_config

from ..config import ClusterManagerSettings
from ..domain.spec import HOSTED_HINT
from .base import ClusterRef, ControlPlaneHealth, Provider, StepFailed
from .hosted import HostedProvider
from .hosted_manifests import HostedOptions
from .local import LocalProvider

__all__ = ["ClusterRef", "ControlPlaneHealth", "Provider", "Providers", "StepFailed"]


class Providers:
    """The providers this service instance can use, by name."""

    def __init__(self, providers: dict[str, Provider] | None = None) -> None:
        self._by_name: dict[str, Provider] = dict(providers or {})

    def add(self, provider: Provider) -> None:
        self._by_name[provider.name] = provider

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def get(self, name: str) -> Provider:
        try:
            return self._by_name[name]
        except KeyError:
            hint = f" ({HOSTED_HINT})" if name == "hosted" else ""
            raise StepFailed(f"provider {name!r} is not configured on this cluster-manager{hint}") from None

    async def close(self) -> None:
        for provider in self._by_name.values():
            await provider.close()

    @classmethod
    def from_settings(cls, settings: ClusterManagerSettings, *, data_dir: Path) -> Providers:
        providers = cls()
        providers.add(
            LocalProvider(data_dir, ready_timeout=settings.ready_timeout, controllers=settings.local_controllers)
        )
        kubeconfig = settings.host_kubeconfig
        in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        if kubeconfig or in_cluster:

            async def host_api() -> ApiClient:
                if kubeconfig:
                    return await new_client_from_config(config_file=kubeconfig)
                load_incluster_config()  # type: ignore[no-untyped-call]
                return ApiClient()

            options = HostedOptions(
                image_registry=settings.image_registry,
                etcd_storage_class=settings.etcd_storage_class,
                backup_storage_class=settings.backup_storage_class,
                api_service_type=settings.api_service_type,
                public_url_template=settings.api_public_url,
            )
            providers.add(HostedProvider(host_api, options=options, ready_timeout=settings.ready_timeout))
        return providers
