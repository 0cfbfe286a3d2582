"""node-manager's settings: the common BERTH_* ones plus its loop period."""

from __future__ import annotations

from berth_common.runtime.settings import ServiceSettings
from pydantic import Field


class NodeManagerSettings(ServiceSettings):
    node_manager_loop_seconds: float = Field(
        default=15.0, gt=0, description="period of the adoption, autoscaler and repair loop (seconds)"
    )
