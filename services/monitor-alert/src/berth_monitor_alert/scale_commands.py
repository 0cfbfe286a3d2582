"""Commands monitor-alert sends to scale things, owned by the receiving services' messages
modules (services may import each other's messages modules only)."""

from __future__ import annotations

from berth_schema.node import ScalePool
from berth_schema.release import ScaleWorkload

__all__ = ["ScalePool", "ScaleWorkload"]
