from decimal import Decimal

import pytest
from berth_node_manager.domain.nodes import node_manifest, node_row
from berth_node_manager.domain.pools import Autoscaling, Flavour, allocate_ip, new_node_name, scale_target
from berth_node_manager.domain.quantity import parse_quantity
from berth_schema.node.labels import Taint, merge_taints
from berth_schema.node.queries import NodeList, PoolList
from pydantic import ValidationError

from .factories import pool


def test_quantities() -> None:
    assert parse_quantity("1430m") == Decimal("1.43")
    assert parse_quantity("4Gi") == 4 * 2**30
    assert parse_quantity("2") == 2
    assert parse_quantity("1k") == 1000
    with pytest.raises(ValueError, match="'abc'"):
        parse_quantity("abc")


def test_flavour_reserves_for_system_and_kubernetes() -> None:
    f = Flavour(cpu=2, memory_gib=4)
    assert f.name == "2c4g"
    assert f.allocatable_cpu() == Decimal("1.93")
    assert 2.8 < float(f.allocatable_memory_gib()) < 3.0
    assert f.allocatable(max_pods=64) == {"cpu": "1930m", "memory": "2972Mi", "ephemeral-storage": "36Gi", "pods": "64"}


def test_best_practice_labels_and_taints() -> None:
    cp = pool("masters", role="control-plane", zone="zone-b")
    labels = cp.node_labels()
    assert labels["topology.kubernetes.io/zone"] == "zone-b"
    assert labels["berth.io/pool"] == "masters"
    assert labels["berth.io/flavour"] == "2c4g"
    assert "node-role.kubernetes.io/control-plane" in labels
    assert [str(t) for t in cp.node_taints()] == ["node-role.kubernetes.io/control-plane:NoSchedule"]
    ingress = pool("edge", role="ingress")
    assert [str(t) for t in ingress.node_taints()] == ["node-role.kubernetes.io/ingress:NoSchedule"]
    assert pool().node_taints() == []


def test_bad_pool_input_names_the_field() -> None:
    with pytest.raises(ValidationError, match="name"):
        pool("Bad_Name")
    with pytest.raises(ValidationError, match=r"labels\[berth.io/pool\]"):
        pool(labels={"berth.io/pool": "other"})
    with pytest.raises(ValidationError, match=r"taint\.key"):
        pool(taints=[Taint(key="bad key")])
    with pytest.raises(ValidationError, match="min_count"):
        Autoscaling(enabled=True, min_count=5, max_count=2)
    with pytest.raises(ValidationError, match="outside autoscaling bounds"):
        pool(count=9, autoscaling=Autoscaling(enabled=True, min_count=1, max_count=3))
    with pytest.raises(ValidationError, match="cpu"):
        Flavour(cpu=0, memory_gib=4)


def test_scale_target_clamps_to_bounds() -> None:
    p = pool(count=2, autoscaling=Autoscaling(enabled=True, min_count=1, max_count=3))
    assert scale_target(p, replicas=None, delta=5).after == 3
    assert scale_target(p, replicas=None, delta=5).clamped
    assert scale_target(p, replicas=0, delta=None).after == 1
    assert scale_target(p, replicas=None, delta=-1).after == 1
    with pytest.raises(ValueError, match="exactly one"):
        scale_target(p, replicas=1, delta=1)
    with pytest.raises(ValueError, match="replicas"):
        scale_target(pool(), replicas=-1, delta=None)


def test_names_and_addresses() -> None:
    p = pool()
    suffixes = iter(["aaaaa", "bbbbb"])
    assert new_node_name(p, ["c1-default-aaaaa"], suffix=lambda: next(suffixes)) == "c1-default-bbbbb"
    assert allocate_ip("192.168.1.0/24", ["192.168.1.2"]) == "192.168.1.3"
    with pytest.raises(ValueError, match="no free address"):
        allocate_ip("10.0.0.0/30", ["10.0.0.2"])


def test_manifest_becomes_a_table_row() -> None:
    p = pool(labels={"app-tier": "web"}, taints=[Taint(key="dedicated", value="web")], version="v1.36.3")
    manifest = node_manifest(p, name="c1-default-abcde", private_ip="192.168.1.233")
    assert manifest["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
    row = node_row(manifest)  # no Ready condition yet
    assert row.status == "Unknown"
    assert (row.pool, row.flavour, row.zone, row.source) == ("default", "2c4g", "zone-a", "created")
    assert (row.allocatable_cpu, row.private_ip, row.version) == (1.93, "192.168.1.233", "v1.36.3")
    assert row.labels["app-tier"] == "web"
    assert [str(t) for t in row.taints] == ["dedicated=web:NoSchedule"]
    imported = node_row(
        {
            "metadata": {"name": "n"},
            "spec": {"unschedulable": True},
            "status": {"capacity": {"cpu": "4", "memory": "8Gi"}},
        }
    )
    assert (imported.source, imported.flavour, imported.display_status) == (
        "imported",
        "4c8g",
        "Unknown,SchedulingDisabled",
    )
    # the list-nodes reply row carries display_status, and reads back as itself
    dumped = NodeList(items=[imported]).model_dump(mode="json")
    assert dumped["items"][0]["display_status"] == "Unknown,SchedulingDisabled"
    assert NodeList.model_validate(dumped).items == [imported]


def test_a_stored_pool_is_its_get_pool_reply() -> None:
    p = pool(labels={"app-tier": "web"}, version="v1.36.3")
    assert p.detail().model_dump(mode="json") == p.model_dump(mode="json")
    assert PoolList(items=[p.detail()]).model_dump(mode="json")["items"][0]["flavour"] == {
        "cpu": 2,
        "memory_gib": 4,
        "disk_gib": 40,
    }


def test_merge_taints_in_place() -> None:
    current = [Taint(key="a", effect="NoSchedule"), Taint(key="b", value="1")]
    merged = merge_taints(current, [Taint(key="b", value="2")], ["a"])
    assert [str(t) for t in merged] == ["b=2:NoSchedule"]
