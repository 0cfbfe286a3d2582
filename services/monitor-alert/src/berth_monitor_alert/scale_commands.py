"""Commands monitor-alert sends to other services to scale things.

They belong to the receiving services' messages modules and are re-exported here:
``ScaleWorkload`` is release-orchestrator's, ``ScalePool`` node-manager's (it accepts
``size`` as an alias of ``replicas``, as monitor-alert sends it).
"""

from __future__ import annotations

from berth_node_manager.messages import ScalePool
from berth_release_orchestrator.messages import ScaleWorkload

__all__ = ["ScalePool", "ScaleWorkload"]
