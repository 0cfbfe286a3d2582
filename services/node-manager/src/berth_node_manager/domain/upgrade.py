"""Pool upgrade plans after a cluster upgrade: surge (add a new node, then cordon, drain and remove
an old one) or delete-first (the reverse, for clusters with no spare capacity), ``batch`` nodes at a
time (one by default). Drains honour PodDisruptionBudgets through the Eviction API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from berth_schema.node.versions import check_version as check_version

from .nodes import NodeRow
from .pools import NodePool

StepKind = Literal["add-node", "wait-ready", "cordon", "drain", "remove-node"]
ROLE_ORDER = {"control-plane": 0, "ingress": 1, "worker": 2}


@dataclass(frozen=True, slots=True)
class UpgradeStep:
    kind: StepKind
    batch: int
    node: str = ""  # the old node a step acts on; empty for add-node / wait-ready (new nodes)
    count: int = 0  # how many new nodes add-node / wait-ready covers

    def __str__(self) -> str:
        target = self.node or f"{self.count} new node(s)"
        return f"batch {self.batch}: {self.kind} {target}"


@dataclass(frozen=True, slots=True)
class PoolUpgradePlan:
    pool: str
    version: str
    strategy: str
    outdated: list[str]
    current: list[str]
    steps: list[UpgradeStep]

    @property
    def needed(self) -> bool:
        return bool(self.outdated)


def plan_pool_upgrade(pool: NodePool, nodes: list[NodeRow], *, version: str) -> PoolUpgradePlan:
    check_version(version)
    mine = sorted((n for n in nodes if n.pool == pool.name), key=lambda n: n.name)
    outdated = [n.name for n in mine if n.version != version]
    current = [n.name for n in mine if n.version == version]
    size = pool.upgrade.batch
    steps: list[UpgradeStep] = []
    for index in range(0, len(outdated), size):
        batch_no = index // size + 1
        batch = outdated[index : index + size]
        replace = [
            *(UpgradeStep("cordon", batch_no, node=n) for n in batch),
            *(UpgradeStep("drain", batch_no, node=n) for n in batch),
            *(UpgradeStep("remove-node", batch_no, node=n) for n in batch),
        ]
        add = [
            UpgradeStep("add-node", batch_no, count=len(batch)),
            UpgradeStep("wait-ready", batch_no, count=len(batch)),
        ]
        steps.extend([*add, *replace] if pool.upgrade.kind == "surge" else [*replace, *add])
    return PoolUpgradePlan(
        pool=pool.name, version=version, strategy=pool.upgrade.kind, outdated=outdated, current=current, steps=steps
    )


def pool_upgrade_order(pools: list[NodePool]) -> list[NodePool]:
    """Control-plane pools first, then ingress, then workers (each by name)."""
    return sorted(pools, key=lambda p: (ROLE_ORDER[p.role], p.name))
