"""cluster-manager's forms on their own: what a create / create-namespace command may carry.
Every broken rule is refused at once, each at its field; a field the form does not name too."""

from __future__ import annotations

import json

import pytest
from berth_schema.cluster import ClusterSpec, CreateCluster, CreateNamespace, NamespaceSpec
from pydantic import ValidationError


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [".".join(map(str, e["loc"])) for e in exc.value.errors()]


def test_defaults_leave_version_and_provider_to_the_service() -> None:
    spec = ClusterSpec(name="demo")
    assert spec.version is None and spec.provider is None and spec.pod_cidr is None
    assert spec.service_cidr == "10.247.0.0/16" and spec.max_pods_per_node == 110


def test_pod_range_too_small_for_flavour() -> None:
    with pytest.raises(ValidationError) as exc:
        ClusterSpec(name="c1", flavour=200, pod_cidr="172.16.0.0/18")
    assert _fields(exc) == ["pod_cidr"]
    message = exc.value.errors()[0]["msg"]
    assert "16381" in message and "22000" in message
    assert ClusterSpec(name="c1", flavour=200, pod_cidr="172.16.0.0/18", max_pods_per_node=64).flavour == 200


def test_overlaps_with_vpc_and_subnet_outside_vpc() -> None:
    with pytest.raises(ValidationError) as exc:
        ClusterSpec(name="c1", pod_cidr="192.168.128.0/17", subnet_cidr="10.1.0.0/24", service_cidr="192.168.0.0/24")
    assert sorted(_fields(exc)) == ["pod_cidr", "service_cidr", "subnet_cidr"]


def test_a_create_command_names_each_bad_field_of_its_spec() -> None:
    body = {
        "name": "Bad_Name",
        "version": "latest",
        "provider": "aws",
        "description": "x" * 61,
        "multi_az": True,
        "pod_cidr": "10.247.0.0/16",
    }
    with pytest.raises(ValidationError) as exc:
        CreateCluster.model_validate_json(json.dumps({"spec": body}), strict=True)
    assert sorted(_fields(exc)) == sorted(
        ["spec.name", "spec.version", "spec.provider", "spec.description", "spec.multi_az", "spec.pod_cidr"]
    )


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(ValidationError) as exc:
        CreateCluster.model_validate({"spec": {"name": "c1", "network_isolation": True}})
    assert _fields(exc) == ["spec.network_isolation"]
    with pytest.raises(ValidationError) as exc2:
        CreateNamespace.model_validate({"cluster": "c1", "namespace": {"name": "a", "network_isolation": True}})
    assert _fields(exc2) == ["namespace.network_isolation"]


def test_the_console_form_is_accepted() -> None:
    """What console.js sends on submit (nulls for empty version and pod range)."""
    body = {
        "name": "demo",
        "version": None,
        "provider": "local",
        "billing_mode": "pay-per-use",
        "flavour": 50,
        "ha": False,
        "rbac": True,
        "description": "",
        "network_model": "overlay",
        "vpc_cidr": "192.168.0.0/16",
        "subnet_cidr": "192.168.1.0/24",
        "pod_cidr": None,
        "service_cidr": "10.247.0.0/16",
        "kube_proxy_mode": "iptables",
    }
    cmd = CreateCluster.model_validate_json(json.dumps({"spec": body}), strict=True)
    assert cmd.spec.provider == "local"


def test_namespace_rules_name_each_field() -> None:
    with pytest.raises(ValidationError) as exc:
        NamespaceSpec.model_validate(
            {
                "name": "kube-mine",
                "quota": {"requests.cpu": "lots", "gpus": "1"},
                "limits": {"default_request_cpu": "2", "default_limit_cpu": "1"},
                "node_selector": {"zone": "a,b"},
                "description": "x" * 61,
            }
        )
    assert _fields(exc) == [
        "name",
        "description",
        "quota.requests.cpu",
        "quota.gpus",
        "limits.default_request_cpu",
        "node_selector.zone",
    ]
    ok = NamespaceSpec(name="team-a", isolated=True, quota={"pods": "50"})
    assert ok.isolated and ok.limits is None
