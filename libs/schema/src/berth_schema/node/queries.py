"""Queries node-manager answers (``berth.api.node-manager.<op>``): pools, nodes, join commands.

Replies carry exactly the fields the gateway, the CLI and the console read. A tenant cluster's
admin kubeconfig is never part of a reply."""

from __future__ import annotations

from typing import Any, Literal, Self

from berth_common.events import query
from pydantic import ConfigDict, Field, model_validator

from ..queries import Name, Page, Reply, TenantQuery
from .labels import Taint
from .pools import PoolSpec

SERVICE = "node-manager"
Source = Literal["created", "joined", "imported"]
NodeStatus = Literal["Ready", "NotReady", "Unknown"]
NodeName = Field(min_length=1, max_length=253, description="a Node's name (a DNS subdomain)")

__all__ = [
    "GetJoinCommand",
    "GetNode",
    "GetPool",
    "JoinCommand",
    "ListNodes",
    "ListPools",
    "NodeDetail",
    "NodeList",
    "NodeRow",
    "NodeStatus",
    "PoolDetail",
    "PoolList",
    "Source",
]


# --- replies ----------------------------------------------------------------------------------------
class PoolDetail(PoolSpec):
    """A node pool as node-manager keeps it: the spec, the cluster it belongs to and the version its
    nodes run."""

    model_config = ConfigDict(extra="forbid")

    cluster: str
    tenant: str
    version: str = ""


class PoolList(Page[PoolDetail]):
    """The cluster's node pools, by name."""


class NodeRow(Reply):
    """One row of the node table (节点管理): name, status, pool, flavour, allocatable CPU and memory,
    private IP, elastic IP, zone, source, plus what the row's actions need. ``display_status`` is
    kubectl's STATUS column (``Ready,SchedulingDisabled`` for a cordoned node)."""

    name: str
    status: NodeStatus
    schedulable: bool
    pool: str
    flavour: str
    allocatable_cpu: float
    allocatable_memory_gib: float
    private_ip: str
    public_ip: str
    zone: str
    source: Source
    version: str
    labels: dict[str, str]
    taints: list[Taint]
    created: str
    display_status: str = Field(default="", description="derived from status and schedulable")

    @model_validator(mode="after")
    def _display(self) -> Self:
        self.display_status = self.status if self.schedulable else f"{self.status},SchedulingDisabled"
        return self


class NodeList(Page[NodeRow]):
    """Nodes of a cluster (or of one pool), by name."""


class NodeDetail(NodeRow):
    """A node's row plus its conditions as the kubelet reports them."""

    conditions: list[dict[str, Any]] = Field(default_factory=list)


class JoinCommand(Reply):
    """A join token for one pool and how to use it: ``command`` for ``berth node join``,
    ``bootstrap_kubeconfig`` for a kubelet doing its own TLS bootstrap. The token is the secret a
    joining machine needs and goes back to the caller alone; it grants bootstrap rights only."""

    cluster: str
    pool: str
    token_id: str
    token: str
    expires: str
    server: str
    ca_cert_hash: str
    command: str
    bootstrap_kubeconfig: str


# --- requests ---------------------------------------------------------------------------------------
class _ClusterQuery(TenantQuery):
    cluster: Name


@query(SERVICE, "list-pools", reply=PoolList)
class ListPools(_ClusterQuery):
    """The node pools of a registered cluster."""


@query(SERVICE, "get-pool", reply=PoolDetail)
class GetPool(_ClusterQuery):
    """One node pool."""

    pool: Name


@query(SERVICE, "list-nodes", reply=NodeList)
class ListNodes(_ClusterQuery):
    """The cluster's nodes, optionally those of one pool or in one status."""

    pool: Name | Literal[""] = ""
    status: NodeStatus | None = None


@query(SERVICE, "get-node", reply=NodeDetail)
class GetNode(_ClusterQuery):
    """One node, with its conditions."""

    node: str = NodeName


@query(SERVICE, "join-command", reply=JoinCommand)
class GetJoinCommand(_ClusterQuery):
    """Issue a join token for ``pool`` (cluster-manager issues it) and the command to run with it."""

    pool: Name
    ttl_seconds: int | None = Field(default=None, ge=60, le=7 * 86_400, description="the token's life")
