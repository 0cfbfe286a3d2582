"""node-manager's messages: the commands it accepts (some sent by other services: scale-pool from
monitor-alert, upgrade-pools and register-cluster from cluster-manager) and the facts it publishes
on ``berth.evt.node.<event>``."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from berth_common.events import command, event
from pydantic import BaseModel, Field, field_validator, model_validator

from .drain import DrainOptions, DrainReport
from .labels import Taint, check_dns_label
from .pools import Autoscaling, Flavour, PoolSpec
from .versions import check_version

SERVICE = "node-manager"
Action = Literal["scale-up", "scale-down", "no-scale-up"]
_FLAVOUR = re.compile(r"^(\d+)c(\d+)g$")
ShortName = Annotated[str, Field(min_length=1, max_length=63)]
NodeName = Annotated[str, Field(min_length=1, max_length=253)]


def parse_flavour(value: Any) -> Any:
    """``"2c4g"`` (the console's shorthand) -> {"cpu": 2, "memory_gib": 4}; anything else unchanged."""
    if isinstance(value, str):
        m = _FLAVOUR.match(value)
        if not m:
            raise ValueError(f"flavour: {value!r} is not like '2c4g' (cores 'c' GiB 'g')")
        return {"cpu": int(m.group(1)), "memory_gib": int(m.group(2))}
    return value


class _ClusterScoped(BaseModel):
    cluster: ShortName
    tenant: ShortName

    @field_validator("cluster")
    @classmethod
    def _cluster(cls, v: str) -> str:
        return check_dns_label(v, field="cluster")


# --- commands -------------------------------------------------------------------------------------


@command("berth.cmd.node-manager.register-cluster.v1", service=SERVICE, verb="register-cluster")
class RegisterCluster(_ClusterScoped):
    """How node-manager reaches a tenant cluster's API server (cluster-manager sends it when the
    cluster is Running, and again when its credentials rotate).

    Empty ``kubeconfig`` (what cluster-manager sends): node-manager asks cluster-manager's
    ``get-kubeconfig`` query for it, so the admin credentials never sit in a stream. A kubeconfig
    given here (a cluster Berth did not create) travels in clear through the command stream."""

    kubeconfig: str = Field(default="", max_length=1_000_000, repr=False)
    node_cidr: str = "192.168.1.0/24"
    simulated: bool = True  # local clusters: nodes are kwok-simulated Node objects


@command("berth.cmd.node-manager.create-pool.v1", service=SERVICE, verb="create-pool")
class CreatePool(PoolSpec):
    """Create a node pool and its nodes. Also accepts the console's shorthand: ``flavor``/``flavour``
    as "2c4g", ``size`` for count, ``min_size``/``max_size`` for autoscaling bounds."""

    cluster: ShortName
    tenant: ShortName
    version: str = ""
    flavor: str | None = None
    size: int | None = Field(default=None, ge=0, le=1000)
    min_size: int | None = Field(default=None, ge=0, le=1000)
    max_size: int | None = Field(default=None, ge=0, le=1000)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("flavor") is not None and "flavour" not in data:
            data["flavour"] = data["flavor"]
        if "flavour" in data:
            data["flavour"] = parse_flavour(data["flavour"])
        if data.get("size") is not None and "count" not in data:
            data["count"] = data["size"]
        if (data.get("min_size") is not None or data.get("max_size") is not None) and "autoscaling" not in data:
            data["autoscaling"] = Autoscaling(
                enabled=True, min_count=data.get("min_size") or 0, max_count=data.get("max_size") or 10
            )
        return data

    def spec(self) -> PoolSpec:
        return PoolSpec.model_validate(self.model_dump(include=set(PoolSpec.model_fields)))


@command("berth.cmd.node-manager.scale-pool.v1", service=SERVICE, verb="scale-pool")
class ScalePool(_ClusterScoped):
    """Set (``replicas``, or ``size`` as monitor-alert and the console send it) or change (``delta``)
    a pool's node count; clamped to the pool's autoscaling bounds."""

    pool: ShortName
    replicas: int | None = Field(default=None, ge=0, le=1000)
    size: int | None = Field(default=None, ge=0, le=1000)
    delta: int | None = Field(default=None, ge=-1000, le=1000)
    reason: str = Field(default="", max_length=1024)

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.size is not None and self.replicas is None:
            self.replicas = self.size
        if (self.replicas is None) == (self.delta is None):
            raise ValueError("give exactly one of replicas (or size) and delta")
        return self


@command("berth.cmd.node-manager.upgrade-pools.v1", service=SERVICE, verb="upgrade-pools")
class UpgradePools(BaseModel):
    """Upgrade every node pool of a cluster to ``version`` (after its control plane)."""

    cluster: str
    tenant: str
    version: str

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        return check_version(v)


@command("berth.cmd.node-manager.add-node.v1", service=SERVICE, verb="add-node")
class AddNode(_ClusterScoped):
    pool: ShortName
    count: int = Field(default=1, ge=1, le=100)


@command("berth.cmd.node-manager.remove-node.v1", service=SERVICE, verb="remove-node")
class RemoveNode(_ClusterScoped):
    """Drain, then delete a node (its pool shrinks by one)."""

    node: NodeName
    timeout_seconds: float = Field(default=300, gt=0, le=86400)
    force: bool = False


@command("berth.cmd.node-manager.cordon.v1", service=SERVICE, verb="cordon")
class Cordon(_ClusterScoped):
    node: NodeName


@command("berth.cmd.node-manager.uncordon.v1", service=SERVICE, verb="uncordon")
class Uncordon(_ClusterScoped):
    node: NodeName


@command("berth.cmd.node-manager.drain.v1", service=SERVICE, verb="drain")
class Drain(_ClusterScoped):
    node: NodeName
    timeout_seconds: float = Field(default=300, gt=0, le=86400)
    grace_seconds: int | None = Field(default=None, ge=0, le=3600)
    force: bool = False
    ignore_daemonsets: bool = True

    def options(self) -> DrainOptions:
        return DrainOptions(
            timeout_seconds=self.timeout_seconds,
            grace_period_seconds=self.grace_seconds,
            force=self.force,
            ignore_daemonsets=self.ignore_daemonsets,
        )


@command("berth.cmd.node-manager.set-labels.v1", service=SERVICE, verb="set-labels")
class SetLabels(_ClusterScoped):
    """Set and remove labels on many nodes at once, in place."""

    nodes: list[str] = Field(min_length=1, max_length=1000)
    set: dict[str, str] = Field(default_factory=dict)
    remove: list[str] = Field(default_factory=list)


@command("berth.cmd.node-manager.set-taints.v1", service=SERVICE, verb="set-taints")
class SetTaints(_ClusterScoped):
    """Add (or replace, by key and effect) and remove taints on many nodes at once, in place."""

    nodes: list[str] = Field(min_length=1, max_length=1000)
    add: list[Taint] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)


# --- facts ----------------------------------------------------------------------------------------


class _NodeFact(BaseModel):
    cluster: str
    tenant: str


@event("berth.node.cluster-registered.v1", domain="node", name="cluster-registered")
class ClusterRegistered(_NodeFact):
    server: str


@event("berth.node.pool-created.v1", domain="node", name="pool-created")
class PoolCreated(_NodeFact):
    pool: str
    flavour: str
    count: int
    zone: str
    role: str


@event("berth.node.pool-scaled.v1", domain="node", name="pool-scaled")
class PoolScaled(_NodeFact):
    pool: str
    before: int
    after: int
    reason: str
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


@event("berth.node.pool-upgraded.v1", domain="node", name="pool-upgraded")
class PoolUpgraded(_NodeFact):
    pool: str
    version: str
    replaced: list[str]
    added: list[str]
    failed: str = ""


@event("berth.node.added.v1", domain="node", name="added")
class NodeAdded(_NodeFact):
    pool: str
    node: str
    source: Literal["created", "joined"] = "created"  # joined: a machine that came with a join token


@event("berth.node.removed.v1", domain="node", name="removed")
class NodeRemoved(_NodeFact):
    pool: str
    node: str
    reason: str


@event("berth.node.cordoned.v1", domain="node", name="cordoned")
class NodeCordoned(_NodeFact):
    node: str


@event("berth.node.uncordoned.v1", domain="node", name="uncordoned")
class NodeUncordoned(_NodeFact):
    node: str


@event("berth.node.drained.v1", domain="node", name="drained")
class NodeDrained(_NodeFact):
    node: str
    report: DrainReport


@event("berth.node.drain-failed.v1", domain="node", name="drain-failed")
class NodeDrainFailed(_NodeFact):
    node: str
    reason: str
    report: DrainReport


@event("berth.node.labels-set.v1", domain="node", name="labels-set")
class LabelsSet(_NodeFact):
    nodes: list[str]
    set: dict[str, str]
    remove: list[str]
    errors: dict[str, str] = Field(default_factory=dict)


@event("berth.node.taints-set.v1", domain="node", name="taints-set")
class TaintsSet(_NodeFact):
    nodes: list[str]
    add: list[Taint]
    remove: list[str]
    errors: dict[str, str] = Field(default_factory=dict)


@event("berth.node.not-ready.v1", domain="node", name="not-ready")
class NodeNotReady(_NodeFact):
    pool: str
    node: str
    since: str


@event("berth.node.repaired.v1", domain="node", name="repaired")
class NodeRepaired(_NodeFact):
    pool: str
    replaced: dict[str, str]  # old node -> new node; empty when held
    held: bool
    reason: str


@event("berth.node.autoscale-decided.v1", domain="node", name="autoscale-decided")
class AutoscaleDecided(_NodeFact):
    pool: str
    action: Action
    before: int
    after: int
    node: str = ""
    reason: str
    pods: list[str] = Field(default_factory=list)


@event("berth.node.command-failed.v1", domain="node", name="command-failed")
class CommandFailed(_NodeFact):
    command: str
    reason: str


__all__ = [
    "AddNode",
    "AutoscaleDecided",
    "ClusterRegistered",
    "CommandFailed",
    "Cordon",
    "CreatePool",
    "Drain",
    "Flavour",
    "LabelsSet",
    "NodeAdded",
    "NodeCordoned",
    "NodeDrainFailed",
    "NodeDrained",
    "NodeNotReady",
    "NodeRemoved",
    "NodeRepaired",
    "NodeUncordoned",
    "PoolCreated",
    "PoolScaled",
    "PoolUpgraded",
    "RegisterCluster",
    "RemoveNode",
    "ScalePool",
    "SetLabels",
    "SetTaints",
    "TaintsSet",
    "Uncordon",
    "UpgradePools",
]
