"""Commands monitor-alert sends to other services to scale things.

These belong in the receiving services' messages modules: ``ScaleWorkload`` is
release-orchestrator's (re-exported here); ``ScalePool`` lives here until node-manager's
messages module defines it.
"""

from __future__ import annotations

from berth_common.events import command
from berth_release_orchestrator.messages import ScaleWorkload
from pydantic import BaseModel, Field

__all__ = ["ScalePool", "ScaleWorkload"]


@command("berth.cmd.node-manager.scale-pool.v1", service="node-manager", verb="scale-pool")
class ScalePool(BaseModel):
    """Set a node pool's size in a tenant cluster."""

    tenant: str = Field(min_length=1, max_length=63)
    cluster: str = Field(min_length=1, max_length=63)
    pool: str = Field(min_length=1, max_length=63)
    size: int = Field(ge=0, le=10_000)
    reason: str = Field(default="", max_length=1024)
