"""The resource model (DESIGN.md) as data: each HTTP route names the service and the
query op or command verb behind it, the least role it needs, and its body model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from . import models as m

# call: a synchronous query that changes something; its reply is the result (a join token's
# secret goes back to the caller alone instead of travelling through a stream as a command would)
Kind = Literal["list", "get", "command", "call"]

CM, NM, RS, RO, MA, DR = (
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
)
C = "/api/v1/clusters/{cluster}"


@dataclass(frozen=True, kw_only=True)
class Route:
    method: str
    path: str
    kind: Kind
    service: str
    op: str  # query op (list/get) or command verb
    role: str
    tag: str
    summary: str
    # a gateway form for a body the schema still carries as an untyped dict; otherwise the body
    # comes from the command or typed query request in the schema (see bodies.py)
    body: type[BaseModel] | None = None
    target: str = ""  # envelope subject / operation target, formatted with path params and body fields
    done: tuple[str, ...] | None = None  # fact names that complete the operation
    key: str = "name"  # the field lists are ordered and paged by
    filters: tuple[str, ...] = field(default=())  # query parameters passed through to list ops
    rename: tuple[tuple[str, str], ...] = ()  # path param -> the service's field name
    wrap: str = ""  # the command nests the body under this field (put-registry: {"registry": {...}})
    wrap_tenant: bool = True  # the nested body carries the tenant too
    via_list: str = ""  # get: the service has no get op; find the item in this list op by ``key``
    confirm: str = ""  # command without a completing fact: this list op shows the target once applied
    validate: str = ""  # command: a query of the service that checks the body first (the form's rules)
    items_from: str = ""  # list: the items are this field of a get op's reply (a cluster's timeline)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.op}"

    @property
    def params(self) -> list[str]:
        import re

        return re.findall(r"{(\w+)}", self.path)


def _list(
    path: str, svc: str, op: str, tag: str, summary: str, *, key: str = "name", filters: tuple[str, ...] = ()
) -> Route:
    return Route(
        method="GET",
        path=path,
        kind="list",
        service=svc,
        op=op,
        role="viewer",
        tag=tag,
        summary=summary,
        key=key,
        filters=filters,
    )


def _get(
    path: str,
    svc: str,
    op: str,
    tag: str,
    summary: str,
    *,
    via_list: str = "",
    key: str = "name",
    rename: tuple[tuple[str, str], ...] = (),
) -> Route:
    return Route(
        method="GET",
        path=path,
        kind="get",
        service=svc,
        op=op,
        role="viewer",
        tag=tag,
        summary=summary,
        via_list=via_list,
        key=key,
        rename=rename,
    )


def _cmd(
    method: str,
    path: str,
    svc: str,
    verb: str,
    tag: str,
    summary: str,
    *,
    role: str,
    target: str,
    body: type[BaseModel] | None = None,
    done: tuple[str, ...] | None = None,
    rename: tuple[tuple[str, str], ...] = (),
    wrap: str = "",
    wrap_tenant: bool = True,
    confirm: str = "",
    validate: str = "",
) -> Route:
    return Route(
        validate=validate,
        wrap_tenant=wrap_tenant,
        rename=rename,
        wrap=wrap,
        confirm=confirm,
        method=method,
        path=path,
        kind="command",
        service=svc,
        op=verb,
        role=role,
        tag=tag,
        summary=summary,
        body=body,
        target=target,
        done=done,
    )


ROUTES: tuple[Route, ...] = (
    # clusters (cluster-manager)
    _list("/api/v1/clusters", CM, "list-clusters", "clusters", "List clusters", filters=("status",)),
    _cmd(
        "POST",
        "/api/v1/clusters",
        CM,
        "create",
        "clusters",
        "Create a cluster (202 + operation)",
        role="tenant-admin",
        target="clusters/{name}",
        body=m.ClusterCreate,
        done=("running",),
        wrap="spec",
        wrap_tenant=False,
        validate="validate-cluster",
    ),
    _get(C, CM, "get-cluster", "clusters", "Get a cluster"),
    Route(
        method="GET",
        path="/api/v1/cluster-options",
        kind="get",
        service=CM,
        op="cluster-options",
        role="viewer",
        tag="clusters",
        summary="What the creation form offers: versions, flavours, modes",
    ),
    _cmd(
        "DELETE",
        C,
        CM,
        "delete",
        "clusters",
        "Delete a cluster",
        role="tenant-admin",
        target="clusters/{cluster}",
        done=("deleted",),
    ),
    _cmd(
        "POST",
        C + ":upgrade",
        CM,
        "upgrade",
        "clusters",
        "Upgrade a cluster",
        role="tenant-admin",
        target="clusters/{cluster}",
        done=("upgraded",),
    ),
    _cmd(
        "POST",
        C + ":retry",
        CM,
        "retry",
        "clusters",
        "Retry a failed creation",
        role="tenant-admin",
        target="clusters/{cluster}",
        done=("running",),
    ),
    _cmd(
        "POST",
        C + ":rotate-ca-start",
        CM,
        "rotate-ca-start",
        "clusters",
        "Start CA rotation",
        role="tenant-admin",
        target="clusters/{cluster}",
        done=("ca-rotation-started",),
    ),
    _cmd(
        "POST",
        C + ":rotate-ca-complete",
        CM,
        "rotate-ca-complete",
        "clusters",
        "Complete CA rotation",
        role="tenant-admin",
        target="clusters/{cluster}",
        done=("ca-rotation-completed",),
    ),
    Route(
        method="GET",
        path=C + "/kubeconfig",
        kind="get",
        service=CM,
        op="get-kubeconfig",
        role="developer",
        tag="clusters",
        summary="Download the cluster's kubeconfig",
    ),
    Route(
        method="GET",
        path=C + "/events",
        kind="list",
        service=CM,
        op="get-cluster",
        role="viewer",
        tag="clusters",
        summary="The cluster's events timeline",
        key="time",
        items_from="timeline",
    ),
    _get(C + "/detail", CM, "get-cluster", "clusters", "Cluster detail: network, allocation rates, timeline"),
    # namespaces
    _list(C + "/namespaces", CM, "list-namespaces", "namespaces", "List namespaces"),
    _cmd(
        "POST",
        C + "/namespaces",
        CM,
        "create-namespace",
        "namespaces",
        "Create a namespace",
        role="tenant-admin",
        target="clusters/{cluster}/namespaces/{name}",
        body=m.NamespaceCreate,
        done=("namespace-created",),
        wrap="namespace",
        wrap_tenant=False,
        validate="validate-namespace",
    ),
    _get(
        C + "/namespaces/{namespace}",
        CM,
        "get-namespace",
        "namespaces",
        "Get a namespace with its quota",
        via_list="list-namespaces",
    ),
    _cmd(
        "DELETE",
        C + "/namespaces/{namespace}",
        CM,
        "delete-namespace",
        "namespaces",
        "Delete a namespace",
        role="tenant-admin",
        target="clusters/{cluster}/namespaces/{namespace}",
        done=("namespace-deleted",),
    ),
    _cmd(
        "PUT",
        C + "/namespaces/{namespace}/quota",
        CM,
        "set-quota",
        "namespaces",
        "Set a namespace quota",
        role="tenant-admin",
        target="clusters/{cluster}/namespaces/{namespace}",
        done=("quota-changed",),
    ),
    # addons
    _list(C + "/addons", CM, "list-addons", "addons", "List addons"),
    _get(C + "/addons/{addon}", CM, "get-addon", "addons", "Get an addon"),
    # node pools and nodes (node-manager)
    _list(C + "/nodepools", NM, "list-pools", "nodes", "List node pools"),
    _cmd(
        "POST",
        C + "/nodepools",
        NM,
        "create-pool",
        "nodes",
        "Create a node pool",
        role="tenant-admin",
        target="clusters/{cluster}/nodepools/{name}",
        done=("pool-created",),
    ),
    _get(C + "/nodepools/{pool}", NM, "get-pool", "nodes", "Get a node pool"),
    _cmd(
        "POST",
        C + "/nodepools/{pool}:scale",
        NM,
        "scale-pool",
        "nodes",
        "Scale a node pool",
        role="tenant-admin",
        target="clusters/{cluster}/nodepools/{pool}",
        done=("pool-scaled",),
    ),
    Route(
        method="POST",
        path=C + "/nodepools/{pool}:join-token",
        kind="call",
        service=NM,
        op="join-command",
        role="tenant-admin",
        tag="nodes",
        summary="Issue a token for machines to join the pool, with the command to run on them",
        body=m.JoinTokenRequest,
    ),
    Route(
        method="GET",
        path=C + "/join-tokens",
        kind="list",
        service=CM,
        op="list-join-tokens",
        role="tenant-admin",
        tag="nodes",
        summary="List the cluster's live join tokens (ids, expiry, description; never the secret)",
        key="token_id",
    ),
    Route(
        method="DELETE",
        path=C + "/join-tokens/{token_id}",
        kind="call",
        service=CM,
        op="revoke-join-token",
        role="tenant-admin",
        tag="nodes",
        summary="Revoke a join token: machines can no longer join with it",
    ),
    _list(C + "/nodes", NM, "list-nodes", "nodes", "List nodes", filters=("pool", "status")),
    _get(C + "/nodes/{node}", NM, "get-node", "nodes", "Get a node"),
    _cmd(
        "POST",
        C + "/nodes/{node}:cordon",
        NM,
        "cordon",
        "nodes",
        "Cordon a node",
        role="tenant-admin",
        target="clusters/{cluster}/nodes/{node}",
        done=("cordoned",),
    ),
    _cmd(
        "POST",
        C + "/nodes/{node}:uncordon",
        NM,
        "uncordon",
        "nodes",
        "Uncordon a node",
        role="tenant-admin",
        target="clusters/{cluster}/nodes/{node}",
        done=("uncordoned",),
    ),
    _cmd(
        "POST",
        C + "/nodes/{node}:drain",
        NM,
        "drain",
        "nodes",
        "Drain a node",
        role="tenant-admin",
        target="clusters/{cluster}/nodes/{node}",
        done=("drained",),
    ),
    # registries (registry-sync)
    _list("/api/v1/registries", RS, "list-registries", "registries", "List registries"),
    _cmd(
        "POST",
        "/api/v1/registries",
        RS,
        "put-registry",
        "registries",
        "Register a registry",
        role="tenant-admin",
        target="registries/{name}",
        wrap="registry",
        confirm="list-registries",
    ),
    _get(
        "/api/v1/registries/{registry}", RS, "get-registry", "registries", "Get a registry", via_list="list-registries"
    ),
    _cmd(
        "DELETE",
        "/api/v1/registries/{registry}",
        RS,
        "delete-registry",
        "registries",
        "Remove a registry",
        role="tenant-admin",
        target="registries/{registry}",
        rename=(("registry", "name"),),
        confirm="list-registries",
    ),
    _list("/api/v1/replication-policies", RS, "list-policies", "registries", "List replication policies"),
    _cmd(
        "POST",
        "/api/v1/replication-policies",
        RS,
        "put-policy",
        "registries",
        "Create a replication policy",
        role="tenant-admin",
        target="replication-policies/{name}",
        wrap="policy",
        confirm="list-policies",
    ),
    _get(
        "/api/v1/replication-policies/{policy}",
        RS,
        "get-policy",
        "registries",
        "Get a replication policy",
        via_list="list-policies",
    ),
    _cmd(
        "POST",
        "/api/v1/replication-policies/{policy}:run",
        RS,
        "run-policy",
        "registries",
        "Run a policy now",
        role="developer",
        target="replication-policies/{policy}",
        done=("execution-succeeded",),
    ),
    _list(
        "/api/v1/replication-executions",
        RS,
        "list-executions",
        "registries",
        "List replication executions",
        key="id",
        filters=("policy",),
    ),
    _get(
        "/api/v1/replication-executions/{execution}",
        RS,
        "get-execution",
        "registries",
        "Get an execution",
        rename=(("execution", "id"),),
    ),
    _cmd(
        "POST",
        "/api/v1/replication-executions/{execution}:retry",
        RS,
        "retry-execution",
        "registries",
        "Retry an execution",
        role="developer",
        target="replication-executions/{execution}",
        done=("execution-succeeded",),
    ),
    # releases (release-orchestrator)
    _list("/api/v1/templates", RO, "list-templates", "releases", "List templates"),
    _get("/api/v1/templates/{template}", RO, "get-template", "releases", "Get a template"),
    _list("/api/v1/releases", RO, "list-releases", "releases", "List releases", filters=("cluster",)),
    _cmd(
        "POST",
        "/api/v1/releases",
        RO,
        "create-release",
        "releases",
        "Create a release",
        role="developer",
        target="releases/{name}",
        done=("promoted",),
    ),
    _get("/api/v1/releases/{release}", RO, "get-release", "releases", "Get a release"),
    _cmd(
        "POST",
        "/api/v1/releases/{release}:promote",
        RO,
        "promote",
        "releases",
        "Promote a release",
        role="developer",
        target="releases/{release}",
        done=("promoted",),
    ),
    _cmd(
        "POST",
        "/api/v1/releases/{release}:rollback",
        RO,
        "rollback",
        "releases",
        "Roll a release back",
        role="developer",
        target="releases/{release}",
        done=("rolled-back",),
    ),
    _list("/api/v1/configs", RO, "list-configs", "releases", "List configs"),
    _get("/api/v1/configs/{config}", RO, "get-config", "releases", "Get a config"),
    # alerts (monitor-alert)
    _list("/api/v1/channels", MA, "list-channels", "alerts", "List chat/notification channels"),
    _list("/api/v1/alert-routes", MA, "list-routes", "alerts", "List alert routes"),
    _list("/api/v1/alerts", MA, "list-alerts", "alerts", "List alerts", key="fingerprint", filters=("status",)),
    _get(
        "/api/v1/alerts/{alert}", MA, "get-alert", "alerts", "Get an alert", via_list="list-alerts", key="fingerprint"
    ),
    _cmd(
        "POST",
        "/api/v1/alerts/{alert}:ack",
        MA,
        "ack",
        "alerts",
        "Acknowledge an alert",
        role="developer",
        target="alerts/{alert}",
        done=("acknowledged",),
        rename=(("alert", "fingerprint"),),
    ),
    _list("/api/v1/silences", MA, "list-silences", "alerts", "List silences", key="id"),
    _cmd(
        "POST",
        "/api/v1/silences",
        MA,
        "silence",
        "alerts",
        "Create a silence",
        role="developer",
        target="silences",
        done=("silenced",),
    ),
    _list("/api/v1/scaling-policies", MA, "list-scaling-policies", "alerts", "List scaling policies"),
    # DR (dr-switcher)
    _list("/api/v1/dr-groups", DR, "list-groups", "dr", "List DR groups"),
    _cmd(
        "POST",
        "/api/v1/dr-groups",
        DR,
        "create-group",
        "dr",
        "Create a DR group",
        role="tenant-admin",
        target="dr-groups/{name}",
        body=m.DrGroupCreate,
        wrap="spec",
        wrap_tenant=False,
    ),
    _get("/api/v1/dr-groups/{group}", DR, "get-group", "dr", "Get a DR group"),
    _cmd(
        "POST",
        "/api/v1/dr-groups/{group}:switchover",
        DR,
        "switchover",
        "dr",
        "Switch over to the peer site",
        role="tenant-admin",
        target="dr-groups/{group}",
        done=("switched",),
    ),
    _cmd(
        "POST",
        "/api/v1/dr-groups/{group}:failback",
        DR,
        "failback",
        "dr",
        "Fail back",
        role="tenant-admin",
        target="dr-groups/{group}",
        done=("switched",),
    ),
    _cmd(
        "POST",
        "/api/v1/dr-groups/{group}:drill",
        DR,
        "drill",
        "dr",
        "Run a DR drill",
        role="tenant-admin",
        target="dr-groups/{group}",
        done=("switched",),
    ),
)

PATH_PARAM_PATTERN = r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?"
