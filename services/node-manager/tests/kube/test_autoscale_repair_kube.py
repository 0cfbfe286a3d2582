"""The autoscaler and health repair driven step by step with a fake clock against a real cluster."""

from __future__ import annotations

from datetime import timedelta

from berth_node_manager.domain.autoscaler import AutoscalerPolicy, AutoscalerState
from berth_node_manager.domain.clock import FakeClock, SystemClock
from berth_node_manager.domain.pools import Autoscaling, Flavour, NodePool
from berth_node_manager.domain.repair import RepairPolicy
from berth_node_manager.operations import ClusterOps
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient

from .conftest import deployment, eventually, pods_of, running_on


async def test_autoscaler_adds_a_node_for_pending_pods_and_removes_it_when_they_are_gone(
    ops: ClusterOps, api: ApiClient
) -> None:
    clock = FakeClock(SystemClock().now())
    ops.clock = clock
    ns = ops.cluster
    pool = NodePool(
        cluster=ops.cluster,
        tenant="t1",
        name="auto",
        count=1,
        flavour=Flavour(cpu=2, memory_gib=4),
        autoscaling=Autoscaling(enabled=True, min_count=1, max_count=3),
    )
    policy = AutoscalerPolicy(
        scale_down_utilisation=0.5, scale_down_unneeded_seconds=600, scale_down_delay_after_add_seconds=300
    )
    [original] = await ops.add_nodes(pool, 1)
    # each pod needs 1 of the node's 1.93 allocatable CPUs: one fits, the second cannot be scheduled
    await k8s.AppsV1Api(api).create_namespaced_deployment(ns, deployment("batch", replicas=2, pool="auto", cpu="1"))
    await eventually(lambda: _pending(api, ns, "batch"), what="a pod marked Unschedulable")
    await eventually(lambda: _running(api, ns, "batch", 1), what="one batch pod Running")

    state = AutoscalerState()
    decisions, state = await ops.autoscale_step([pool], state, policy)
    [up] = decisions
    assert (up.action, up.pool, up.before, up.after) == ("scale-up", "auto", 1, 2)
    assert "1 unschedulable pod(s)" in up.reason and "2c4g" in up.reason
    added, _ = await ops.apply_autoscale(pool, up)
    pool = pool.model_copy(update={"count": up.after})
    placed = await eventually(lambda: _running(api, ns, "batch", 2), what="both batch pods Running")
    assert set(placed.values()) == {original, *added}

    await k8s.AppsV1Api(api).delete_namespaced_deployment("batch", ns)
    await eventually(lambda: _none_left(api, ns, "batch"), what="the batch pods gone")
    decisions, state = await ops.autoscale_step([pool], state, policy)
    assert decisions == []  # under-used from now on, but the cool-down has not passed
    clock.advance(timedelta(seconds=599))
    decisions, state = await ops.autoscale_step([pool], state, policy)
    assert decisions == []
    clock.advance(timedelta(seconds=1))
    decisions, state = await ops.autoscale_step([pool], state, policy)
    [down] = decisions
    assert (down.action, down.before, down.after) == ("scale-down", 2, 1)
    assert "below 50% for 600s" in down.reason
    _, removed = await ops.apply_autoscale(pool, down)
    assert removed is not None and removed.deleted and removed.drain.outcome == "drained"
    pool = pool.model_copy(update={"count": down.after})
    assert len(await ops.pool_nodes("auto")) == 1
    clock.advance(timedelta(hours=1))
    decisions, state = await ops.autoscale_step([pool], state, policy)
    assert decisions == []  # the pool is at its min


async def test_health_repair_replaces_within_its_cap_only(ops: ClusterOps, api: ApiClient) -> None:
    clock = FakeClock(SystemClock().now())
    ops.clock = clock
    pool = NodePool(cluster=ops.cluster, tenant="t1", name="rp", count=5, flavour=Flavour(cpu=2, memory_gib=4))
    healthy = await ops.add_nodes(pool, 1)
    # nodes kwok does not manage, so the Ready conditions we write stay as written
    broken = await ops.add_nodes(pool, 4, simulated=False)
    core = k8s.CoreV1Api(api)
    policy = RepairPolicy(not_ready_seconds=300, max_unhealthy="40%")

    await _set_ready(core, broken[0], "False", clock)
    for name in broken[1:]:
        await _set_ready(core, name, "True", clock)
    plan = await ops.repair_plan(pool, policy)
    assert plan.replace == [] and plan.unhealthy == []  # NotReady, but not for long enough
    clock.advance(timedelta(seconds=301))
    plan = await ops.repair_plan(pool, policy)
    assert plan.replace == [broken[0]] and not plan.held
    [(old, new)] = await ops.repair(pool, plan)
    assert old == broken[0]
    assert await ops.nodes.get(old) is None
    assert (await ops.nodes.wait_ready(new))["metadata"]["labels"]["berth.io/pool"] == "rp"

    # a mass outage: 3 of 5 nodes NotReady exceeds 40% (2): nothing is replaced
    for name in broken[1:]:
        await _set_ready(core, name, "Unknown", clock)
    clock.advance(timedelta(seconds=301))
    held = await ops.repair_plan(pool, policy)
    assert held.held and held.replace == [] and held.unhealthy == sorted(broken[1:])
    assert "remediation held" in held.reason
    assert await ops.repair(pool, held) == []
    assert len(await ops.pool_nodes("rp")) == 5
    for name in [*healthy, *broken[1:], new]:
        assert await ops.nodes.get(name) is not None


async def _set_ready(core: k8s.CoreV1Api, name: str, status: str, clock: FakeClock) -> None:
    now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    cond = {
        "type": "Ready",
        "status": status,
        "reason": "Test",
        "message": "set by the test",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    await core.patch_node_status(name, {"status": {"conditions": [cond]}})


async def _pending(api: ApiClient, ns: str, app: str) -> bool:
    return any(
        c.type == "PodScheduled" and c.reason == "Unschedulable"
        for p in await pods_of(api, ns, app)
        for c in (p.status.conditions or [])
    )


async def _running(api: ApiClient, ns: str, app: str, n: int) -> dict[str, str] | None:
    got = await running_on(api, ns, app)
    return got if len(got) == n else None


async def _none_left(api: ApiClient, ns: str, app: str) -> bool:
    pods = await k8s.CoreV1Api(api).list_namespaced_pod(ns, label_selector=f"app={app}")
    return not pods.items
