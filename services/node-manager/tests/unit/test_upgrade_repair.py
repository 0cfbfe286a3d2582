from datetime import timedelta

import pytest
from berth_node_manager.domain.clock import FakeClock
from berth_node_manager.domain.nodes import node_row, parse_time
from berth_node_manager.domain.pools import UpgradeStrategy
from berth_node_manager.domain.repair import RepairPolicy, node_health, plan_repair
from berth_node_manager.domain.upgrade import plan_pool_upgrade, pool_upgrade_order
from pydantic import ValidationError

from .factories import node, pool


def test_surge_upgrade_one_node_at_a_time() -> None:
    rows = [node_row(node(f"n{i}", version="v1.35.0")) for i in (1, 2)] + [node_row(node("n3"))]
    plan = plan_pool_upgrade(pool(), rows, version="v1.36.3")
    assert plan.outdated == ["n1", "n2"] and plan.current == ["n3"]
    assert [str(s) for s in plan.steps] == [
        "batch 1: add-node 1 new node(s)",
        "batch 1: wait-ready 1 new node(s)",
        "batch 1: cordon n1",
        "batch 1: drain n1",
        "batch 1: remove-node n1",
        "batch 2: add-node 1 new node(s)",
        "batch 2: wait-ready 1 new node(s)",
        "batch 2: cordon n2",
        "batch 2: drain n2",
        "batch 2: remove-node n2",
    ]


def test_delete_first_upgrade_in_batches() -> None:
    rows = [node_row(node(f"n{i}", version="v1.35.0")) for i in (1, 2, 3)]
    plan = plan_pool_upgrade(pool(upgrade=UpgradeStrategy(kind="delete-first", batch=2)), rows, version="v1.36.3")
    kinds = [(s.batch, s.kind, s.node or s.count) for s in plan.steps]
    assert kinds[:8] == [
        (1, "cordon", "n1"),
        (1, "cordon", "n2"),
        (1, "drain", "n1"),
        (1, "drain", "n2"),
        (1, "remove-node", "n1"),
        (1, "remove-node", "n2"),
        (1, "add-node", 2),
        (1, "wait-ready", 2),
    ]
    assert kinds[8:] == [
        (2, "cordon", "n3"),
        (2, "drain", "n3"),
        (2, "remove-node", "n3"),
        (2, "add-node", 1),
        (2, "wait-ready", 1),
    ]
    with pytest.raises(ValueError, match="version"):
        plan_pool_upgrade(pool(), rows, version="1.36")


def test_upgrade_order_control_plane_first() -> None:
    order = pool_upgrade_order([pool("w"), pool("edge", role="ingress"), pool("cp", role="control-plane")])
    assert [p.name for p in order] == ["cp", "edge", "w"]


def test_repair_replaces_within_cap_and_holds_on_mass_outage() -> None:
    clock = FakeClock(parse_time("2026-01-01T00:00:00Z"))
    nodes = [node("n1", ready="False"), node("n2"), node("n3"), node("n4"), node("n5")]
    policy = RepairPolicy(not_ready_seconds=300, max_unhealthy="40%")
    health = [node_health(n) for n in nodes]
    assert plan_repair("default", health, now=clock.now(), policy=policy).replace == []  # not long enough
    clock.advance(timedelta(minutes=5))
    plan = plan_repair("default", health, now=clock.now(), policy=policy)
    assert plan.replace == ["n1"] and not plan.held
    outage = [node_health(node(f"n{i}", ready="Unknown")) for i in range(1, 4)] + health[3:]
    held = plan_repair("default", outage, now=clock.now(), policy=policy)
    assert held.held and held.replace == [] and held.unhealthy == ["n1", "n2", "n3"]
    assert "exceeds max_unhealthy 40% (2)" in held.reason
    assert plan_repair("default", outage, now=clock.now(), policy=RepairPolicy(max_unhealthy="3")).replace == [
        "n1",
        "n2",
        "n3",
    ]
    with pytest.raises(ValidationError, match="max_unhealthy"):
        RepairPolicy(max_unhealthy="lots")
