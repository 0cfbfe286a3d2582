"""Drain through the Eviction API on a real cluster: pods move to other nodes, DaemonSet pods are
skipped, and a PodDisruptionBudget is never broken (the blocked pods are reported)."""

from __future__ import annotations

from berth_node_manager.domain.drain import DrainOptions
from berth_node_manager.domain.pools import Flavour, NodePool
from berth_node_manager.kube.drain import drain_node
from berth_node_manager.operations import ClusterOps
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient

from .conftest import deployment, eventually, running_on


def daemonset(name: str, *, pool: str) -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "nodeSelector": {"berth.io/pool": pool},
                    "containers": [{"name": "agent", "image": "registry.invalid/agent:1"}],
                },
            },
        },
    }


async def test_drain_moves_pods_and_refuses_to_break_a_pdb(ops: ClusterOps, api: ApiClient) -> None:
    ns = ops.cluster
    apps = k8s.AppsV1Api(api)
    pool = NodePool(cluster=ops.cluster, tenant="t1", name="app", flavour=Flavour(cpu=4, memory_gib=8))
    nodes = await ops.add_nodes(pool, 2)
    await apps.create_namespaced_deployment(ns, deployment("web", replicas=4, pool="app"))
    await apps.create_namespaced_daemon_set(ns, daemonset("agent", pool="app"))
    placed = await eventually(lambda: _if_len(running_on(api, ns, "web"), 4), what="4 web pods Running")
    await eventually(lambda: _if_len(running_on(api, ns, "agent"), 2), what="an agent pod per node")
    first = max(nodes, key=lambda n: sum(v == n for v in placed.values()))  # the node holding most web pods
    [second] = [n for n in nodes if n != first]
    on_first = sorted(p for p, n in placed.items() if n == first)

    report = await drain_node(api, first, DrainOptions(timeout_seconds=30))
    assert report.outcome == "drained", report
    assert sorted(p.name for p in report.by_outcome("evicted")) == on_first
    [skipped] = report.by_outcome("skipped")
    assert skipped.name.startswith("agent-") and "DaemonSet" in skipped.reason
    moved = await eventually(
        lambda: _all_on(running_on(api, ns, "web"), second, 4), what=f"all 4 web pods Running on {second}"
    )
    assert set(moved.values()) == {second}
    node = await ops.nodes.get(first)
    assert node is not None and node["spec"]["unschedulable"] is True

    # Every web pod is needed: the PDB allows no disruption, so draining the second node must not evict any.
    await ops.nodes.set_unschedulable(first, False)
    policy = k8s.PolicyV1Api(api)
    await policy.create_namespaced_pod_disruption_budget(
        ns, {"metadata": {"name": "web"}, "spec": {"minAvailable": 4, "selector": {"matchLabels": {"app": "web"}}}}
    )
    await eventually(lambda: _pdb_observed(policy, ns), what="the disruption controller to observe the PDB")
    blocked = await drain_node(api, second, DrainOptions(timeout_seconds=3, retry_seconds=0.5))
    assert blocked.outcome == "timed-out"
    stuck = blocked.by_outcome("blocked")
    assert sorted(p.name for p in stuck) == sorted(moved)
    assert all("disruption budget" in p.reason and p.attempts >= 2 for p in stuck), stuck
    assert "timed out after 3s" in stuck[0].reason
    still = await running_on(api, ns, "web")
    assert sorted(still) == sorted(moved), "a PDB-protected pod was evicted"


async def _if_len(coro: object, n: int) -> dict[str, str] | None:
    got: dict[str, str] = await coro  # type: ignore[misc]
    return got if len(got) == n else None


async def _all_on(coro: object, node: str, n: int) -> dict[str, str] | None:
    got: dict[str, str] = await coro  # type: ignore[misc]
    return got if len(got) == n and set(got.values()) == {node} else None


async def _pdb_observed(policy: k8s.PolicyV1Api, ns: str) -> bool:
    pdb = await policy.read_namespaced_pod_disruption_budget("web", ns)
    return bool(
        pdb.status and pdb.status.observed_generation == pdb.metadata.generation and pdb.status.current_healthy == 4
    )
