"""The composition root of release-orchestrator: settings and dependencies in, a ready app out.

app = bootstrap(clusters=Clusters(kubeconfig=path), clock=FakeClock(...))
await app.start(service_settings)
"""

from __future__ import annotations

import os
import socket
import uuid

from berth_common.bus import Bus, QueryError
from berth_common.clock import Clock
from berth_common.runtime import ServiceApp
from berth_schema.cluster import GetKubeconfig

from . import handlers, queries  # noqa: F401  (declare handlers, queries and the runner on the app)
from .adapters.clusters import AskClusterManager, Clusters, ClusterUnreachable
from .app import app
from .config import Deps, ReleaseSettings, deps


def kubeconfig_from_cluster_manager(bus: Bus) -> AskClusterManager:
    """Ask cluster-manager's ``get-kubeconfig`` for a cluster's kubeconfig."""

    async def ask(tenant: str, cluster: str) -> str:
        try:
            reply = await bus.ask(GetKubeconfig(tenant=tenant, cluster=cluster))
        except QueryError as exc:
            raise ClusterUnreachable(f"cluster {cluster}: cluster-manager get-kubeconfig: {exc.detail}") from None
        if not reply.kubeconfig:
            raise ClusterUnreachable(f"cluster {cluster}: cluster-manager returned no kubeconfig")
        text: str = reply.kubeconfig
        return text

    return ask


def bootstrap(
    settings: ReleaseSettings | None = None,
    *,
    clock: Clock | None = None,
    clusters: Clusters | None = None,
    holder: str | None = None,
) -> ServiceApp:
    """Wire release-orchestrator's dependencies onto its app and return the app.

    ``clusters`` reaches tenant clusters (default: kubeconfigs from the settings, else
    cluster-manager's ``get-kubeconfig``); ``clock`` drives release steps and the runner lease;
    ``holder`` names this replica in the runner lease."""
    settings = settings or ReleaseSettings()
    if clusters is None:
        clusters = Clusters(
            kubeconfig=settings.kubeconfig,
            kubeconfig_dir=settings.kubeconfig_dir,
            ask=kubeconfig_from_cluster_manager(app.bus),
        )
    deps.take(
        Deps(
            settings=settings,
            clock=clock or Clock(),
            clusters=clusters,
            holder=holder or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        )
    )
    return app
