"""Per-tenant limits (clusters, nodes, namespaces per cluster) and what remains of them."""

from __future__ import annotations

from berth_schema.cluster.namespace import SYSTEM_NAMESPACES as SYSTEM_NAMESPACES
from pydantic import BaseModel, Field

from .errors import FieldError, LimitExceeded, ValidationFailed


class TenantLimits(BaseModel):
    clusters: int = Field(default=10, ge=0)
    nodes: int = Field(default=200, ge=0)
    namespaces_per_cluster: int = Field(default=100, ge=0)


class TenantUsage(BaseModel):
    clusters: int = 0
    nodes: int = 0


class Remaining(BaseModel):
    clusters: int
    nodes: int


def remaining(limits: TenantLimits, usage: TenantUsage) -> Remaining:
    return Remaining(clusters=max(limits.clusters - usage.clusters, 0), nodes=max(limits.nodes - usage.nodes, 0))


def check_cluster_allowed(limits: TenantLimits, usage: TenantUsage) -> None:
    if usage.clusters >= limits.clusters:
        raise LimitExceeded("clusters", limits.clusters, usage.clusters)


def check_nodes_allowed(limits: TenantLimits, usage: TenantUsage, *, adding: int) -> None:
    if usage.nodes + adding > limits.nodes:
        raise LimitExceeded("nodes", limits.nodes, usage.nodes)


def namespaces_remaining(limits: TenantLimits, *, existing: int) -> int:
    """What the console shows as 当前您还可以为该集群新增 N 个命名空间 (system namespaces count)."""
    return max(limits.namespaces_per_cluster - existing, 0)


def check_namespace_allowed(limits: TenantLimits, *, existing: int) -> None:
    if existing >= limits.namespaces_per_cluster:
        raise LimitExceeded("namespaces", limits.namespaces_per_cluster, existing)


def parse_limits(data: dict[str, object]) -> TenantLimits:
    from pydantic import ValidationError

    try:
        return TenantLimits.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed([FieldError(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]) from None
