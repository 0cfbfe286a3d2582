"""Health repair with a cap, like Cluster API's MachineHealthCheck: a node NotReady (or Unknown)
longer than a threshold is replaced, unless more nodes of the pool are unhealthy than
``max_unhealthy`` allows — then a mass outage (network partition, zone down) is not answered by
replacing every node, and nothing is replaced."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from berth_schema.node.labels import POOL_LABEL
from pydantic import BaseModel, Field, field_validator

from .nodes import NodeStatus, node_status, parse_time, ready_condition

_PERCENT = re.compile(r"^(\d{1,3})%$")


class RepairPolicy(BaseModel):
    not_ready_seconds: float = Field(default=300.0, gt=0)
    max_unhealthy: str = "40%"  # an absolute count ("2") or a percentage of the pool ("40%")

    @field_validator("max_unhealthy")
    @classmethod
    def _cap(cls, v: str) -> str:
        m = _PERCENT.match(v)
        if (m and int(m.group(1)) > 100) or (not m and not v.isdigit()):
            raise ValueError(f"max_unhealthy: {v!r} must be a count like '2' or a percentage like '40%'")
        return v

    def allowed(self, total: int) -> int:
        m = _PERCENT.match(self.max_unhealthy)
        return total * int(m.group(1)) // 100 if m else int(self.max_unhealthy)


@dataclass(frozen=True, slots=True)
class NodeHealth:
    name: str
    pool: str
    status: NodeStatus
    since: datetime | None  # when the Ready condition last changed


def node_health(node: dict[str, Any]) -> NodeHealth:
    meta = node["metadata"]
    cond = ready_condition(node) or {}
    since = parse_time(cond.get("lastTransitionTime")) or parse_time(meta.get("creationTimestamp"))
    return NodeHealth(
        name=meta["name"], pool=(meta.get("labels") or {}).get(POOL_LABEL, ""), status=node_status(node), since=since
    )


@dataclass(frozen=True, slots=True)
class RepairPlan:
    pool: str
    total: int
    unhealthy: list[str]
    replace: list[str]
    held: bool
    reason: str


def plan_repair(pool: str, nodes: list[NodeHealth], *, now: datetime, policy: RepairPolicy) -> RepairPlan:
    mine = [n for n in nodes if n.pool == pool]
    unhealthy = sorted(
        n.name
        for n in mine
        if n.status != "Ready" and n.since is not None and (now - n.since).total_seconds() >= policy.not_ready_seconds
    )
    allowed = policy.allowed(len(mine))
    if not unhealthy:
        return RepairPlan(pool, len(mine), [], [], False, "all nodes healthy")
    if len(unhealthy) > allowed:
        return RepairPlan(
            pool,
            len(mine),
            unhealthy,
            [],
            True,
            f"{len(unhealthy)} of {len(mine)} nodes NotReady for over {policy.not_ready_seconds:g}s exceeds "
            f"max_unhealthy {policy.max_unhealthy} ({allowed}); remediation held (suspect a mass outage)",
        )
    return RepairPlan(
        pool,
        len(mine),
        unhealthy,
        unhealthy,
        False,
        f"{len(unhealthy)} of {len(mine)} nodes NotReady for over {policy.not_ready_seconds:g}s "
        f"(max_unhealthy {policy.max_unhealthy} = {allowed}); replacing",
    )
