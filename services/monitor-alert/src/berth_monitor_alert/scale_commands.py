"""Commands monitor-alert sends to other services to scale things.

These belong in the receiving services' messages modules (release-orchestrator,
node-manager); they live here until those modules define them, then this module should
re-export theirs.
"""

from __future__ import annotations

from berth_common.events import command
from pydantic import BaseModel, Field


@command("berth.cmd.release-orchestrator.scale-workload.v1", service="release-orchestrator", verb="scale-workload")
class ScaleWorkload(BaseModel):
    """Set a workload's replicas (Deployment or StatefulSet) in a tenant cluster."""

    tenant: str = Field(min_length=1, max_length=63)
    cluster: str = Field(min_length=1, max_length=63)
    namespace: str = Field(min_length=1, max_length=63)
    kind: str = Field(default="Deployment", pattern=r"^(Deployment|StatefulSet)$")
    name: str = Field(min_length=1, max_length=253)
    replicas: int = Field(ge=0, le=10_000)
    reason: str = Field(default="", max_length=1024)


@command("berth.cmd.node-manager.scale-pool.v1", service="node-manager", verb="scale-pool")
class ScalePool(BaseModel):
    """Set a node pool's size in a tenant cluster."""

    tenant: str = Field(min_length=1, max_length=63)
    cluster: str = Field(min_length=1, max_length=63)
    pool: str = Field(min_length=1, max_length=63)
    size: int = Field(ge=0, le=10_000)
    reason: str = Field(default="", max_length=1024)
