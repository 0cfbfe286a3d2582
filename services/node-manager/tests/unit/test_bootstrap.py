"""bootstrap wires what node-manager's handlers and loops use; defaults are the real adapters."""

from __future__ import annotations

from berth_node_manager import loops
from berth_node_manager.app import app
from berth_node_manager.bootstrap import bootstrap
from berth_node_manager.domain.autoscaler import AutoscalerPolicy
from berth_node_manager.domain.clock import FakeClock, SystemClock
from berth_node_manager.quota import AskClusterManager, NoNodeLimit
from berth_node_manager.runtime import wiring
from berth_node_manager.settings import NodeManagerSettings


def test_bootstrap_takes_its_dependencies_as_arguments() -> None:
    clock, quota = FakeClock(), NoNodeLimit()
    policy = AutoscalerPolicy(scale_down_utilisation=0.3)
    try:
        wired = bootstrap(NodeManagerSettings(node_manager_loop_seconds=2), clock=clock, quota=quota, autoscaler=policy)
        assert wired is app
        assert (wiring.clock, wiring.quota, loops.LoopSettings.autoscaler) == (clock, quota, policy)
        assert loops.LoopSettings.interval_seconds == 2
        assert {"list-pools", "get-pool", "list-nodes", "get-node", "join-command"} <= set(app.bus.queries)
    finally:
        bootstrap(NodeManagerSettings())
    assert isinstance(wiring.clock, SystemClock) and isinstance(wiring.quota, AskClusterManager)
    assert loops.LoopSettings.interval_seconds == 15
