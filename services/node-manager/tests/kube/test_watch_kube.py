"""The node watch lists first, then follows changes, resuming from the last resourceVersion when the
server ends a watch, and relists when the resourceVersion has expired (410 Gone)."""

from __future__ import annotations

import asyncio

import pytest
from berth_node_manager.domain.pools import Flavour, NodePool
from berth_node_manager.kube.watch import NodeEvent, watch_nodes
from berth_node_manager.operations import ClusterOps
from berth_schema.node.labels import CLUSTER_LABEL
from kubernetes_asyncio.client import ApiClient


async def test_watch_lists_then_follows_changes_across_reconnects(ops: ClusterOps, api: ApiClient) -> None:
    events: list[NodeEvent] = []
    selector = f"{CLUSTER_LABEL}={ops.cluster}"

    async def follow() -> None:
        async for ev in watch_nodes(api, label_selector=selector, timeout_seconds=5):
            events.append(ev)

    task = asyncio.create_task(follow())
    try:
        async with asyncio.timeout(20):
            while not events:
                await asyncio.sleep(0.05)
            assert events[0].type == "RELISTED" and events[0].node["items"] == []
            pool = NodePool(cluster=ops.cluster, tenant="t1", name="w", flavour=Flavour(cpu=2, memory_gib=4))
            [name] = await ops.add_nodes(pool, 1, wait_ready=False)
            while not any(e.type == "ADDED" and e.node["metadata"]["name"] == name for e in events):
                await asyncio.sleep(0.05)
            # past the server-side watch timeout (5s) the watch reconnects from the last resourceVersion
            await asyncio.sleep(6)
            await ops.nodes.delete(name)
            while not any(e.type == "DELETED" for e in events):
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert [e.type for e in events].count("RELISTED") == 1
    rvs = [int(e.resource_version) for e in events]
    assert rvs == sorted(rvs)


@pytest.mark.slow
async def test_watch_relists_after_410_gone(ops: ClusterOps, api: ApiClient) -> None:
    """The watch cache keeps every event younger than 75s, so an expired resourceVersion takes an
    old event pushed out by a burst of newer ones: this test waits 80s on purpose."""
    pool = NodePool(cluster=ops.cluster, tenant="t1", name="w", flavour=Flavour(cpu=2, memory_gib=4))
    [name] = await ops.add_nodes(pool, 1, wait_ready=False)
    node = await ops.nodes.get(name)
    assert node is not None
    stale = node["metadata"]["resourceVersion"]
    await asyncio.sleep(80)
    for i in range(300):
        await ops.nodes.patch_labels(name, set_labels={"burst": str(i)})
    selector = f"{CLUSTER_LABEL}={ops.cluster}"
    events: list[NodeEvent] = []
    async with asyncio.timeout(30):
        async for ev in watch_nodes(api, resource_version=stale, label_selector=selector, timeout_seconds=5):
            events.append(ev)
            if ev.type == "RELISTED":
                break
    # the stale watch was answered 410 Gone and the watch relisted instead of failing
    assert [e.type for e in events] == ["RELISTED"]
    [listed] = events[-1].node["items"]
    assert listed["metadata"]["labels"]["burst"] == "299"
    assert int(events[-1].resource_version) > int(stale)
