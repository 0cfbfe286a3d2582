"""The resource model (DESIGN.md) as data: each HTTP route names the service and the query op or
command verb behind it, the least role it needs, and its body (see route_def.Route). Every command
and typed query of the schema has a route, except the few INTERNAL_ONLY lists with the reason."""

from __future__ import annotations

from . import routes_alert, routes_cluster, routes_dr, routes_node, routes_registry, routes_release
from .route_def import CM as CM
from .route_def import DR as DR
from .route_def import MA as MA
from .route_def import NM as NM
from .route_def import RO as RO
from .route_def import RS as RS
from .route_def import Route as Route

ROUTES: tuple[Route, ...] = (
    *routes_cluster.ROUTES,
    *routes_node.ROUTES,
    *routes_registry.ROUTES,
    *routes_release.ROUTES,
    *routes_alert.ROUTES,
    *routes_dr.ROUTES,
)


PATH_PARAM_PATTERN = r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?"

# Commands and queries of the schema no route sends, each with the reason (tests/test_reachability.py
# fails for any other message without a route, and for an entry here that has one or is gone).
INTERNAL_ONLY: dict[str, str] = {
    "node-manager.register-cluster": "sent by cluster-manager once a cluster runs; carries its admin kubeconfig",
    "node-manager.upgrade-pools": "sent by cluster-manager after the control plane upgraded "
    "(POST /api/v1/clusters/{cluster}:upgrade)",
    "monitor-alert.ingest-webhook": "reached through /hooks/alertmanager (the webhook body, unchanged)",
    "registry-sync.ingest-webhook": "reached through /hooks/registry (the webhook body, unchanged)",
    "monitor-alert.ingest-call-status": "reached through /hooks/twilio/call (the voice provider's callback, "
    "whose signature monitor-alert checks)",
    "cluster-manager.issue-join-token": "asked by node-manager's join-command, reached as "
    "POST /api/v1/clusters/{cluster}/nodepools/{pool}:join-token (which adds the pool and the command to run)",
    "cluster-manager.check-node-quota": "asked by node-manager before it adds nodes; "
    "GET /api/v1/tenants/{tenant}/limits shows the same limit and usage",
}
