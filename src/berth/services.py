"""The suite's services and how the embedded launcher starts each one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    module: str
    side_port_offset: int


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("cluster-manager", "berth_cluster_manager.main", 1),
    ServiceSpec("node-manager", "berth_node_manager.main", 2),
    ServiceSpec("registry-sync", "berth_registry_sync.main", 3),
    ServiceSpec("release-orchestrator", "berth_release_orchestrator.main", 4),
    ServiceSpec("monitor-alert", "berth_monitor_alert.main", 5),
    ServiceSpec("dr-switcher", "berth_dr_switcher.main", 6),
    ServiceSpec("gateway", "berth_gateway.main", 7),
)
