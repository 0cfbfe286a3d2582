from __future__ import annotations

import pytest
from berth_cluster_manager.domain import LimitExceeded, ValidationFailed
from berth_cluster_manager.domain.limits import (
    SYSTEM_NAMESPACES,
    TenantLimits,
    TenantUsage,
    check_cluster_allowed,
    check_namespace_allowed,
    check_nodes_allowed,
    namespaces_remaining,
    remaining,
)
from berth_cluster_manager.domain.namespaces import NODE_SELECTOR_ANNOTATION, namespace_manifests, parse_namespace
from berth_schema.cluster.quantity import parse_quantity


def test_remaining_counts_like_the_console() -> None:
    limits = TenantLimits(clusters=2, nodes=10, namespaces_per_cluster=100)
    assert namespaces_remaining(limits, existing=len(SYSTEM_NAMESPACES)) == 97
    assert remaining(limits, TenantUsage(clusters=1, nodes=4)).model_dump() == {"clusters": 1, "nodes": 6}
    check_cluster_allowed(limits, TenantUsage(clusters=1))
    with pytest.raises(LimitExceeded, match="clusters: tenant limit of 2"):
        check_cluster_allowed(limits, TenantUsage(clusters=2))
    with pytest.raises(LimitExceeded, match="nodes"):
        check_nodes_allowed(limits, TenantUsage(nodes=8), adding=3)
    with pytest.raises(LimitExceeded, match="namespaces"):
        check_namespace_allowed(limits, existing=100)


def test_quantities() -> None:
    assert parse_quantity("500m") * 2 == 1
    assert parse_quantity("2Gi") == 2 * 1024**3
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity("two")


def test_namespace_validation_names_each_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_namespace(
            {
                "name": "kube-mine",
                "quota": {"requests.cpu": "lots", "gpus": "1"},
                "limits": {"default_request_cpu": "2", "default_limit_cpu": "1"},
                "node_selector": {"zone": "a,b"},
            }
        )
    assert exc.value.fields() == [
        "name",
        "quota.requests.cpu",
        "quota.gpus",
        "limits.default_request_cpu",
        "node_selector.zone",
    ]


def test_namespace_manifests() -> None:
    spec = parse_namespace(
        {
            "name": "team-a",
            "quota": {"requests.cpu": "4", "pods": "50"},
            "limits": {},
            "isolated": True,
            "node_selector": {"pool": "gpu", "zone": "a"},
        }
    )
    objs = namespace_manifests(spec, cluster="c1")
    assert [o["kind"] for o in objs] == ["Namespace", "ResourceQuota", "LimitRange", "NetworkPolicy"]
    assert objs[0]["metadata"]["annotations"][NODE_SELECTOR_ANNOTATION] == "pool=gpu,zone=a"
    assert objs[1]["spec"]["hard"] == {"requests.cpu": "4", "pods": "50"}
    assert objs[3]["spec"]["policyTypes"] == ["Ingress"]
    assert all(o["metadata"]["labels"]["berth.io/cluster"] == "c1" for o in objs)
