from datetime import timedelta

from berth_node_manager.domain.autoscaler import AutoscalerPolicy, AutoscalerState, decide, node_usage
from berth_node_manager.domain.clock import FakeClock
from berth_node_manager.domain.pools import Autoscaling, Flavour
from berth_schema.node.labels import Taint

from .factories import node, pod, pool

ON = Autoscaling(enabled=True, min_count=1, max_count=3)
POLICY = AutoscalerPolicy(
    scale_down_utilisation=0.5, scale_down_unneeded_seconds=600, scale_down_delay_after_add_seconds=300
)


def test_pending_pods_scale_the_pool_whose_flavour_fits() -> None:
    clock = FakeClock()
    small = pool("small", autoscaling=ON)
    big = pool("big", flavour=Flavour(cpu=8, memory_gib=32), autoscaling=ON)
    nodes = [
        node_usage(node("s1", pool="small"), [pod("s-busy", node="s1", cpu="1900m")]),
        node_usage(node("b1", pool="big", cpu="7900m", memory="29Gi"), [pod("b-busy", node="b1", cpu="7")]),
    ]
    pending = [pod("fat-1", cpu="4", memory="8Gi", pending=True), pod("fat-2", cpu="3", memory="8Gi", pending=True)]
    decisions, state = decide(
        pools=[small, big], nodes=nodes, pending=pending, state=AutoscalerState(), now=clock.now(), policy=POLICY
    )
    assert [(d.action, d.pool, d.before, d.after) for d in decisions] == [("scale-up", "big", 1, 2)]
    assert "2 unschedulable pod(s)" in decisions[0].reason and "8c32g" in decisions[0].reason
    assert state.last_scale_up == {"big": clock.now()}


def test_least_waste_picks_the_smaller_flavour_and_max_bounds_hold() -> None:
    clock = FakeClock()
    small = pool("small", autoscaling=ON)
    big = pool("big", flavour=Flavour(cpu=8, memory_gib=32), autoscaling=ON)
    full = [pod("s-full", node="s1", cpu="1930m"), pod("b-full", node="b1", cpu="7900m")]
    nodes = [node_usage(node("s1", pool="small"), full), node_usage(node("b1", pool="big", cpu="7900m"), full)]
    two = [pod(f"p{i}", cpu="500m", memory="256Mi", pending=True) for i in range(2)]
    decisions, _ = decide(
        pools=[small, big], nodes=nodes, pending=two, state=AutoscalerState(), now=clock.now(), policy=POLICY
    )
    assert [(d.action, d.pool, d.after) for d in decisions] == [("scale-up", "small", 2)]
    # only 'small' fits (node selector); 3 pods per node, 2 nodes of room: 6 placed, 6 reported
    twelve = [
        pod(f"q{i:02}", cpu="500m", memory="256Mi", pending=True, node_selector={"berth.io/pool": "small"})
        for i in range(12)
    ]
    decisions, _ = decide(
        pools=[small, big], nodes=nodes, pending=twelve, state=AutoscalerState(), now=clock.now(), policy=POLICY
    )
    assert (decisions[0].action, decisions[0].pool, decisions[0].after) == ("scale-up", "small", 3)
    assert len(decisions[0].pods) == 6
    assert sum(d.action == "no-scale-up" for d in decisions) == 6
    # a node already on its way (count 2, one node present) absorbs pods first: no new scale-up
    coming = pool("small", count=2, autoscaling=ON)
    decisions, _ = decide(
        pools=[coming], nodes=nodes[:1], pending=two, state=AutoscalerState(), now=clock.now(), policy=POLICY
    )
    assert decisions == []


def test_no_pool_fits_is_reported_once_with_reason() -> None:
    clock = FakeClock()
    tainted = pool("gpu", autoscaling=ON, taints=[Taint(key="gpu", value="true")])
    pending = [pod("huge", cpu="64", pending=True), pod("plain", pending=True)]
    state = AutoscalerState()
    decisions, state = decide(
        pools=[pool("small", autoscaling=Autoscaling(enabled=True, max_count=1)), tainted],
        nodes=[node_usage(node("s1", pool="small"), [pod("busy", node="s1", cpu="1900m")])],
        pending=pending,
        state=state,
        now=clock.now(),
        policy=POLICY,
    )
    reasons = {d.pods[0]: d.reason for d in decisions if d.action == "no-scale-up"}
    assert "exceed flavour 2c4g" in reasons["default/huge"]
    assert "node selector or taints" in reasons["default/huge"]
    assert "at their max: small (1/1)" in reasons["default/plain"]
    again, _ = decide(
        pools=[pool("small", autoscaling=Autoscaling(enabled=True, max_count=1)), tainted],
        nodes=[node_usage(node("s1", pool="small"), [pod("busy", node="s1", cpu="1900m")])],
        pending=pending,
        state=state,
        now=clock.now(),
        policy=POLICY,
    )
    assert again == []


def test_underused_node_is_removed_after_cool_down_only_if_pods_fit_elsewhere() -> None:
    clock = FakeClock()
    p = pool("small", count=2, autoscaling=ON)
    raw_nodes = [node("s1", pool="small"), node("s2", pool="small")]
    pods = [pod("busy", node="s1", cpu="1500m"), pod("idle", node="s2", cpu="100m")]
    state = AutoscalerState(last_scale_up={"small": clock.now()})

    def step() -> list[tuple[str, str, str]]:
        nonlocal state
        usage = [node_usage(n, pods) for n in raw_nodes]
        decisions, state = decide(pools=[p], nodes=usage, pending=[], state=state, now=clock.now(), policy=POLICY)
        return [(d.action, d.node, d.reason) for d in decisions]

    assert step() == []
    clock.advance(timedelta(seconds=599))
    assert step() == []
    clock.advance(timedelta(seconds=1))
    [(action, name, reason)] = step()
    assert (action, name) == ("scale-down", "s2")
    assert "utilisation 5%" in reason and "below 50% for 600s" in reason

    # a pod that fits nowhere else keeps the node
    pods[1] = pod("idle", node="s2", cpu="400m", memory="2500Mi")
    pods[0] = pod("busy", node="s1", cpu="1500m", memory="1Gi")
    clock.advance(timedelta(seconds=1000))
    state = AutoscalerState()
    assert step() == []
    clock.advance(timedelta(seconds=700))
    assert step() == []


def test_never_below_min_and_not_while_pods_pend() -> None:
    clock = FakeClock()
    p = pool("small", count=1, autoscaling=ON)
    usage = [node_usage(node("s1", pool="small"), [])]
    state = AutoscalerState(under_since={"s1": clock.now() - timedelta(hours=1)})
    decisions, _ = decide(pools=[p], nodes=usage, pending=[], state=state, now=clock.now(), policy=POLICY)
    assert decisions == []
    p2 = pool("small", count=2, autoscaling=ON)
    usage2 = [*usage, node_usage(node("s2", pool="small"), [])]
    pending = [pod("x", cpu="64", pending=True)]
    decisions, _ = decide(pools=[p2], nodes=usage2, pending=pending, state=state, now=clock.now(), policy=POLICY)
    assert [d.action for d in decisions] == ["no-scale-up"]


def test_pending_pods_that_fit_existing_nodes_need_no_new_node() -> None:
    clock = FakeClock()
    small = pool("small", count=1, autoscaling=ON)
    # Ready, but the lifecycle controller's not-ready taint is still on it: it is lifted soon, ignore it
    fresh = node("s1", pool="small", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}])
    pending = [pod("a", cpu="1", pending=True), pod("b", cpu="1", pending=True)]
    decisions, _ = decide(
        pools=[small],
        nodes=[node_usage(fresh, [])],
        pending=pending,
        state=AutoscalerState(),
        now=clock.now(),
        policy=POLICY,
    )
    assert [(d.action, d.before, d.after, d.pods) for d in decisions] == [("scale-up", 1, 2, ["default/b"])]
