"""Pool nodes on a real API server: labels, taints, flavour capacity; bulk label/taint edits in place; cordon."""

from __future__ import annotations

from berth_node_manager.domain.nodes import node_row
from berth_node_manager.domain.pools import Flavour, NodePool
from berth_node_manager.kube.nodes import in_bulk
from berth_node_manager.operations import ClusterOps
from berth_schema.node.labels import Taint
from kubernetes_asyncio.client import ApiClient


async def test_pool_nodes_carry_best_practice_labels_taints_and_flavour(ops: ClusterOps, api: ApiClient) -> None:
    pool = NodePool(
        cluster=ops.cluster,
        tenant="t1",
        name="edge",
        role="ingress",
        zone="zone-b",
        flavour=Flavour(cpu=4, memory_gib=8),
        labels={"team": "net"},
        version="v1.36.3",
    )
    names = await ops.add_nodes(pool, 2)
    assert len(names) == 2 and all(n.startswith(f"{ops.cluster}-edge-") for n in names)
    rows = await ops.rows(pool="edge")
    assert [r.name for r in rows] == sorted(names)
    for row in rows:
        assert row.status == "Ready" and row.schedulable
        assert (row.pool, row.flavour, row.zone, row.source) == ("edge", "4c8g", "zone-b", "created")
        assert row.allocatable_cpu == 3.92
        assert row.private_ip.startswith("10.77.")
        assert row.labels["topology.kubernetes.io/zone"] == "zone-b"
        assert row.labels["berth.io/flavour"] == "4c8g"
        assert row.labels["team"] == "net"
        assert "node-role.kubernetes.io/ingress:NoSchedule" in [str(t) for t in row.taints]
    assert len({r.private_ip for r in rows}) == 2


async def test_labels_and_taints_patched_in_bulk_without_replacing_nodes(ops: ClusterOps, api: ApiClient) -> None:
    pool = NodePool(cluster=ops.cluster, tenant="t1", name="work", flavour=Flavour(cpu=2, memory_gib=4))
    names = await ops.add_nodes(pool, 3)
    uids = {n["metadata"]["name"]: n["metadata"]["uid"] for n in await ops.pool_nodes("work")}

    errors = await in_bulk(names, lambda n: ops.nodes.patch_labels(n, set_labels={"tier": "gold", "rack": "r1"}))
    assert errors == {}
    errors = await in_bulk(names, lambda n: ops.nodes.patch_taints(n, add=[Taint(key="dedicated", value="db")]))
    assert errors == {}
    await ops.nodes.patch_labels(names[0], set_labels={}, remove=["rack"])
    await ops.nodes.patch_taints(names[1], remove_keys=["dedicated"])
    bad = await in_bulk(names[:1], lambda n: ops.nodes.patch_labels(n, set_labels={"berth.io/pool": "x"}))
    assert "managed by node-manager" in bad[names[0]]

    after = {n["metadata"]["name"]: n for n in await ops.pool_nodes("work")}
    assert {n: after[n]["metadata"]["uid"] for n in names} == uids  # same objects, patched in place
    rows = {n: node_row(after[n]) for n in names}
    assert all(r.labels["tier"] == "gold" for r in rows.values())
    assert "rack" not in rows[names[0]].labels and rows[names[1]].labels["rack"] == "r1"
    assert _ours(rows[names[0]].taints) == ["dedicated=db:NoSchedule"]
    assert _ours(rows[names[1]].taints) == []

    await ops.nodes.set_unschedulable(names[2], True)
    assert node_row(await ops.nodes.get(names[2]) or {}).display_status == "Ready,SchedulingDisabled"
    await ops.nodes.set_unschedulable(names[2], False)
    assert node_row(await ops.nodes.get(names[2]) or {}).schedulable


def _ours(taints: list[Taint]) -> list[str]:
    """Taints other than the node lifecycle controller's own (node.kubernetes.io/not-ready... come and go)."""
    return [str(t) for t in taints if not t.key.startswith("node.kubernetes.io/")]


async def test_joined_machines_are_not_replaced_by_a_pool_upgrade(ops: ClusterOps) -> None:
    pool = NodePool(cluster=ops.cluster, tenant="t1", name="metal", count=1, flavour=Flavour(cpu=2, memory_gib=4))
    [node] = await ops.add_nodes(pool, 1)  # a kwok node standing in for a machine that joined
    machines = ClusterOps(ops.api, cluster=ops.cluster, node_cidr=ops.node_cidr, simulated=False)
    assert await machines.add_nodes(pool, 1) == []  # real machines are not created, they join
    result = await machines.upgrade_pool(pool, version="v1.36.3")
    assert "joined with a token" in result.failed and not result.added and not result.removed
    still = await ops.nodes.get(node)
    assert still is not None and not still["spec"].get("unschedulable")
