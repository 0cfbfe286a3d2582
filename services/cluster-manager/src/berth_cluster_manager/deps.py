"""What cluster-manager's handlers and queries share: the dependencies ``bootstrap`` wires in
(settings, providers, the operation runner) and the store look-ups every one of them makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from berth_common.events import new_id
from berth_common.store import NotFound, Record
from kubernetes_asyncio.client import ApiClient
from pydantic import BaseModel

from .app import app
from .config import ClusterManagerSettings
from .domain.lifecycle import Cluster
from .domain.limits import TenantLimits
from .domain.spec import Offer
from .operations import OperationRunner, ref_of
from .providers import Provider, Providers
from .state import CLUSTERS, KUBECONFIG_LOG, TENANT_LIMITS, cluster_key, envelope


@dataclass
class Wiring:
    """The service's dependencies; ``bootstrap`` sets them, the startup hook fills in the rest."""

    settings: ClusterManagerSettings | None = None
    providers: Providers | None = None
    runner: OperationRunner | None = None

    def configure(self, *, settings: ClusterManagerSettings, providers: Providers | None) -> None:
        self.settings, self.providers, self.runner = settings, providers, None

    def run(self) -> OperationRunner:
        if self.runner is None:
            raise RuntimeError("cluster-manager is not started")
        return self.runner

    def provider_for(self, cluster: Cluster) -> Provider:
        if self.providers is None:
            raise RuntimeError("cluster-manager is not started")
        return self.providers.get(cluster.spec.provider)

    def offer(self) -> Offer:
        """What this instance can create (before start: the local provider alone)."""
        return Offer(providers=self.providers.names()) if self.providers is not None else Offer()

    def config(self) -> ClusterManagerSettings:
        if self.settings is None:
            raise RuntimeError("cluster-manager is not bootstrapped")
        return self.settings


wiring = Wiring()


def cluster_subject(name: str) -> str:
    return f"clusters/{name}"


async def load_cluster(tenant: str, name: str) -> tuple[Record, Cluster]:
    rec = await app.store.collection(CLUSTERS).get(cluster_key(tenant, name))
    if rec is None:
        raise NotFound(CLUSTERS, cluster_key(tenant, name))
    return rec, Cluster.from_doc(rec.data)


async def tenant_limits(tenant: str) -> TenantLimits:
    rec = await app.store.collection(TENANT_LIMITS).get(tenant)
    return TenantLimits.model_validate(rec.data.get("limits", {})) if rec else TenantLimits()


async def tenant_api(cluster: Cluster) -> ApiClient:
    """A client of the tenant cluster's API server (the caller closes it)."""
    return await wiring.provider_for(cluster).tenant_client(ref_of(cluster))


async def log_fact(c: Cluster, fact: BaseModel) -> None:
    """Publish ``fact`` about ``c`` through an append-only record (for facts no live record carries)."""
    key = f"{c.tenant}/{c.name}/{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{new_id()[:8]}"
    await app.store.collection(KUBECONFIG_LOG).create(
        key,
        {"tenant": c.tenant, "cluster": c.name, "type": type(fact).__name__, "fact": fact.model_dump(mode="json")},
        events=[envelope(fact, tenant=c.tenant, subject=cluster_subject(c.name))],
    )
    app.wake_relay()
