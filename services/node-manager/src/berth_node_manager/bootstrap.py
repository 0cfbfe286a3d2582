"""node-manager's composition root: the app with its handlers, queries and loops, and the
dependencies they use wired in (the real ones unless a caller passes others)."""

from __future__ import annotations

from berth_common.runtime import ServiceApp

from . import handlers, joins, loops  # noqa: F401  (they declare themselves on the app)
from .app import app
from .domain.autoscaler import AutoscalerPolicy
from .domain.clock import Clock, SystemClock
from .domain.repair import RepairPolicy
from .kube.connect import ApiFactory, Connections, api_from_kubeconfig
from .quota import AskClusterManager, NodeQuotaCheck
from .runtime import wiring
from .settings import NodeManagerSettings


def bootstrap(
    settings: NodeManagerSettings | None = None,
    *,
    clock: Clock | None = None,
    kube: ApiFactory | None = None,
    quota: NodeQuotaCheck | None = None,
    autoscaler: AutoscalerPolicy | None = None,
    repair: RepairPolicy | None = None,
) -> ServiceApp:
    """Wire node-manager. ``clock`` drives autoscaler cool-downs and repair thresholds; ``kube``
    makes a Kubernetes API client from a tenant cluster's kubeconfig; ``quota`` checks the tenant
    node limit (default: ask cluster-manager). The store is the one ``app.start`` opens or is given."""
    settings = settings or NodeManagerSettings()
    wiring.clock = clock or SystemClock()
    wiring.connections = Connections(kube or api_from_kubeconfig)
    wiring.quota = quota or AskClusterManager(app.bus.ask)
    loops.LoopSettings.interval_seconds = settings.node_manager_loop_seconds
    loops.LoopSettings.autoscaler = autoscaler or AutoscalerPolicy()
    loops.LoopSettings.repair = repair or RepairPolicy()
    return app
