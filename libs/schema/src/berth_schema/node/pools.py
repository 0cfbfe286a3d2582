"""Node pool specs: flavour, count, zone, labels, taints, max pods, autoscaling bounds, upgrade
strategy, and the role taints every node of a pool gets by default."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .labels import Taint, check_dns_label, check_labels, check_value

Role = Literal["worker", "control-plane", "ingress"]
# Best practice from the brief: control-plane nodes run no business workloads, ingress nodes only
# forward traffic, so both are tainted NoSchedule by default.
ROLE_TAINTS: dict[Role, tuple[Taint, ...]] = {
    "worker": (),
    "control-plane": (Taint(key="node-role.kubernetes.io/control-plane", effect="NoSchedule"),),
    "ingress": (Taint(key="node-role.kubernetes.io/ingress", effect="NoSchedule"),),
}
EVICTION_HARD_MEMORY_GIB = Decimal(100) / 1024  # kubelet's default memory.available<100Mi


class Flavour(BaseModel):
    """A node size (规格): CPU cores, memory and disk."""

    model_config = ConfigDict(frozen=True)

    cpu: int = Field(ge=1, le=512)
    memory_gib: int = Field(ge=1, le=8192)
    disk_gib: int = Field(default=40, ge=10, le=65536)

    @property
    def name(self) -> str:
        return f"{self.cpu}c{self.memory_gib}g"

    def reserved_cpu(self) -> Decimal:
        """kube-reserved CPU, the tiered formula GKE/AKS use: 6% of the first core, 1% of the
        second, 0.5% of cores 3-4, 0.25% above."""
        tiers = ((1, Decimal("0.06")), (1, Decimal("0.01")), (2, Decimal("0.005")), (10**6, Decimal("0.0025")))
        return _tiered(Decimal(self.cpu), tiers)

    def reserved_memory_gib(self) -> Decimal:
        """kube-reserved memory (25% of the first 4 GiB, 20% of the next 4, 10% of the next 8, 6% of
        the next 112, 2% above) plus the hard eviction threshold."""
        tiers = (
            (4, Decimal("0.25")),
            (4, Decimal("0.20")),
            (8, Decimal("0.10")),
            (112, Decimal("0.06")),
            (10**9, Decimal("0.02")),
        )
        return _tiered(Decimal(self.memory_gib), tiers) + EVICTION_HARD_MEMORY_GIB

    def allocatable_cpu(self) -> Decimal:
        return Decimal(self.cpu) - self.reserved_cpu()

    def allocatable_memory_gib(self) -> Decimal:
        return Decimal(self.memory_gib) - self.reserved_memory_gib()

    def capacity(self, *, max_pods: int) -> dict[str, str]:
        return {
            "cpu": str(self.cpu),
            "memory": f"{self.memory_gib}Gi",
            "ephemeral-storage": f"{self.disk_gib}Gi",
            "pods": str(max_pods),
        }

    def allocatable(self, *, max_pods: int) -> dict[str, str]:
        return {
            "cpu": f"{int(self.allocatable_cpu() * 1000)}m",
            "memory": f"{int(self.allocatable_memory_gib() * 1024)}Mi",
            "ephemeral-storage": f"{int(self.disk_gib * 0.9)}Gi",
            "pods": str(max_pods),
        }


def _tiered(amount: Decimal, tiers: Iterable[tuple[int, Decimal]]) -> Decimal:
    total, left = Decimal(0), amount
    for size, rate in tiers:
        part = min(left, Decimal(size))
        total += part * rate
        left -= part
        if left <= 0:
            break
    return total


class Autoscaling(BaseModel):
    model_config = ConfigDict(frozen=True)

    enabled: bool = False
    min_count: int = Field(default=0, ge=0, le=1000)
    max_count: int = Field(default=10, ge=0, le=1000)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min_count > self.max_count:
            raise ValueError(f"autoscaling.min_count ({self.min_count}) exceeds max_count ({self.max_count})")
        return self


class UpgradeStrategy(BaseModel):
    """surge: add a new node, then drain and remove an old one; delete-first: the reverse (no spare
    capacity needed). ``batch`` nodes at a time; one by default."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["surge", "delete-first"] = "surge"
    batch: int = Field(default=1, ge=1, le=100)


class PoolSpec(BaseModel):
    """What a user asks for when creating a pool."""

    name: str
    flavour: Flavour
    count: int = Field(default=1, ge=0, le=1000)
    zone: str = "zone-a"
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)
    max_pods: int = Field(default=110, ge=1, le=1024)
    role: Role = "worker"
    autoscaling: Autoscaling = Field(default_factory=Autoscaling)
    upgrade: UpgradeStrategy = Field(default_factory=UpgradeStrategy)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_dns_label(v, field="name")

    @field_validator("zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        if not v:
            raise ValueError("zone: an availability zone is required")
        return check_value(v, field="zone")

    @field_validator("labels")
    @classmethod
    def _labels(cls, v: dict[str, str]) -> dict[str, str]:
        return check_labels(v)

    @model_validator(mode="after")
    def _count_in_bounds(self) -> Self:
        a = self.autoscaling
        if a.enabled and not a.min_count <= self.count <= a.max_count:
            raise ValueError(f"count ({self.count}) is outside autoscaling bounds {a.min_count}..{a.max_count}")
        return self
