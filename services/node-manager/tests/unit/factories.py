"""Node and pod dicts shaped like the Kubernetes API returns them, for domain unit tests."""

from __future__ import annotations

from typing import Any

from berth_node_manager.domain.pools import Flavour, NodePool


def pool(name: str = "default", **kw: Any) -> NodePool:
    base: dict[str, Any] = {"name": name, "cluster": "c1", "tenant": "t1", "flavour": Flavour(cpu=2, memory_gib=4)}
    base.update(kw)
    return NodePool(**base)


def node(
    name: str,
    *,
    pool: str = "default",
    cpu: str = "1930m",
    memory: str = "2900Mi",
    ready: str = "True",
    since: str = "2026-01-01T00:00:00Z",
    unschedulable: bool = False,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    version: str = "v1.36.3",
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "labels": {"berth.io/pool": pool, "berth.io/kubelet-version": version, **(labels or {})},
            "creationTimestamp": "2025-12-31T00:00:00Z",
        },
        "spec": {"unschedulable": unschedulable, "taints": taints or []},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory},
            "conditions": [{"type": "Ready", "status": ready, "lastTransitionTime": since}],
        },
    }


def pod(
    name: str,
    *,
    node: str = "",
    cpu: str = "100m",
    memory: str = "128Mi",
    owner: str | None = "ReplicaSet",
    pending: bool = False,
    ns: str = "default",
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    node_selector: dict[str, str] | None = None,
    tolerations: list[dict[str, str]] | None = None,
    phase: str = "Running",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels or {}, "annotations": annotations or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "x", "controller": True}]
    status: dict[str, Any] = {"phase": "Pending" if pending else phase}
    if pending:
        status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    return {
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "nodeSelector": node_selector or {},
            "tolerations": tolerations or [],
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": memory}}}],
        },
        "status": status,
    }
