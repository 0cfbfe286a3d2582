"""Nodes as the seed's node table (节点管理) shows them (``NodeRow``, the list-nodes reply row, lives
in the schema), the Node manifest a pool's node gets, and node health read from the Ready
condition. Inputs are Node objects as JSON dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from berth_schema.node.labels import FLAVOUR_LABEL, POOL_LABEL, VERSION_LABEL, ZONE_LABEL, Taint
from berth_schema.node.queries import NodeRow as NodeRow
from berth_schema.node.queries import NodeStatus as NodeStatus
from berth_schema.node.queries import Source as Source

from .pools import NodePool
from .quantity import cores, gib

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
SOURCE_ANNOTATION = "berth.io/source"


def ready_condition(node: dict[str, Any]) -> dict[str, Any] | None:
    for cond in node.get("status", {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return None


def node_status(node: dict[str, Any]) -> NodeStatus:
    cond = ready_condition(node)
    if cond is None or cond.get("status") == "Unknown":
        return "Unknown"
    return "Ready" if cond.get("status") == "True" else "NotReady"


def _address(node: dict[str, Any], kind: str) -> str:
    for addr in node.get("status", {}).get("addresses") or []:
        if addr.get("type") == kind:
            return str(addr.get("address", ""))
    return ""


def node_row(node: dict[str, Any]) -> NodeRow:
    meta, spec, status = node.get("metadata", {}), node.get("spec", {}), node.get("status", {})
    labels: dict[str, str] = meta.get("labels") or {}
    annotations: dict[str, str] = meta.get("annotations") or {}
    alloc = status.get("allocatable") or {}
    cap = status.get("capacity") or {}
    flavour = labels.get(FLAVOUR_LABEL) or (
        f"{int(cores(cap.get('cpu')))}c{round(gib(cap.get('memory')))}g" if cap.get("cpu") else ""
    )
    marked = annotations.get(SOURCE_ANNOTATION)
    source: Source = "created" if marked == "created" else "joined" if marked == "joined" else "imported"
    return NodeRow(
        name=meta["name"],
        status=node_status(node),
        schedulable=not spec.get("unschedulable", False),
        pool=labels.get(POOL_LABEL, ""),
        flavour=flavour,
        allocatable_cpu=round(float(cores(alloc.get("cpu"))), 2),
        allocatable_memory_gib=round(float(gib(alloc.get("memory"))), 2),
        private_ip=_address(node, "InternalIP"),
        public_ip=_address(node, "ExternalIP"),
        zone=labels.get(ZONE_LABEL, ""),
        source=source,
        version=labels.get(VERSION_LABEL) or (status.get("nodeInfo") or {}).get("kubeletVersion", ""),
        labels=labels,
        taints=[Taint.from_kube(t) for t in spec.get("taints") or []],
        created=str(meta.get("creationTimestamp") or ""),
    )


def node_manifest(pool: NodePool, *, name: str, private_ip: str, simulated: bool = True) -> dict[str, Any]:
    """The Node object of a new node of ``pool``: labels and taints from the pool's defaults, capacity
    and allocatable from its flavour. ``simulated`` nodes carry kwok's annotation so kwok runs them."""
    annotations = {SOURCE_ANNOTATION: "created", "node.alpha.kubernetes.io/ttl": "0"}
    if simulated:
        annotations[KWOK_ANNOTATION] = "fake"
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        **pool.node_labels(),
    }
    if simulated:
        labels["type"] = "kwok"
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {"taints": [t.to_kube() for t in pool.node_taints()]},
        "status": {
            "capacity": pool.flavour.capacity(max_pods=pool.max_pods),
            "allocatable": pool.flavour.allocatable(max_pods=pool.max_pods),
            "addresses": [{"type": "InternalIP", "address": private_ip}, {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": pool.version} if pool.version else {},
        },
    }


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
