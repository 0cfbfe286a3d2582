"""What a cluster provider does for the lifecycle's steps, whatever runs the control plane."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from kubernetes_asyncio.client import ApiClient

from ..domain.spec import ResolvedSpec

CLUSTER_LABEL = "berth.io/cluster"
TENANT_LABEL = "berth.io/tenant"
COMPONENT_LABEL = "app.kubernetes.io/component"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "berth-cluster-manager"


class StepFailed(Exception):
    """A provider step failed for a reason worth showing on the timeline."""


@dataclass(frozen=True, slots=True)
class ClusterRef:
    """Which cluster a provider acts on: its identity and spec."""

    tenant: str
    name: str
    spec: ResolvedSpec
    cluster_id: str = ""

    def labels(self, component: str | None = None) -> dict[str, str]:
        out = {CLUSTER_LABEL: self.name, TENANT_LABEL: self.tenant, MANAGED_BY_LABEL: MANAGED_BY}
        if component:
            out[COMPONENT_LABEL] = component
        return out


@dataclass(slots=True)
class ControlPlaneHealth:
    healthy: bool
    components: dict[str, str] = field(default_factory=dict)  # component -> "Available" / reason

    def to_dict(self) -> dict[str, Any]:
        return {"healthy": self.healthy, "components": dict(self.components)}


class Provider(Protocol):
    """Every step name of every operation that touches the control plane maps to ``run_step``."""

    name: str

    async def run_step(self, ref: ClusterRef, step: str, *, version: str) -> str:
        """Run one lifecycle step; returns a short note for the timeline; raises StepFailed."""

    async def admin_kubeconfig(self, ref: ClusterRef) -> dict[str, Any]:
        """The tenant cluster's admin kubeconfig as the platform reaches it."""

    async def tenant_client(self, ref: ClusterRef) -> ApiClient:
        """A client of the tenant cluster's own API server (the caller closes it)."""

    async def join_server(self, ref: ClusterRef) -> str:
        """The API server URL machines joining the cluster are given."""

    async def health(self, ref: ClusterRef) -> ControlPlaneHealth: ...

    async def renew_certificates(self, ref: ClusterRef) -> list[str]:
        """Re-issue leaves close to expiry and roll them out; returns their names."""

    async def rotate_ca(self, ref: ClusterRef, *, phase: str) -> list[str]:
        """phase 'start' or 'complete' of the two-phase CA rotation."""

    async def close(self) -> None:
        """The service stops: stop what runs only for this process (e.g. an unfinished creation)."""
