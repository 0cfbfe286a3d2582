from __future__ import annotations

import pytest
from berth_cluster_manager.domain import ClusterSpec, ValidationFailed, parse_spec, validate_spec
from berth_cluster_manager.domain.network import parse_cidr, pod_capacity, service_ip, subnet_available_ips


def test_form_defaults_are_valid_and_pick_a_pod_range() -> None:
    spec = parse_spec({"name": "test-cluster"})
    assert spec.pod_cidr == "10.0.0.0/19"  # smallest recommended range for 50 x 110 pods
    assert spec.service_ip() == "10.247.0.1"
    assert spec.control_plane_replicas == 1


def test_seed_numbers() -> None:
    assert pod_capacity(parse_cidr("172.16.0.0/16")) == 65533
    assert subnet_available_ips(parse_cidr("192.168.1.0/24")) == 250
    assert str(service_ip(parse_cidr("10.247.0.0/16"))) == "10.247.0.1"


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_spec(
            {
                "name": "Bad_Name",
                "version": "v1.11.7",
                "flavour": 1000,
                "pod_cidr": "172.16.0.0/16",
                "service_cidr": "172.16.0.0/20",
                "description": "x" * 61,
                "network_model": "flat",
                "kube_proxy_mode": "userspace",
                "multi_az": True,
            }
        )
    fields = exc.value.fields()
    for f in ("name", "version", "description", "network_model", "kube_proxy_mode", "multi_az"):
        assert f in fields, fields
    messages = str(exc.value)
    assert "overlaps the service CIDR" in messages
    assert "1000 nodes x 110 pods per node need 110000" in messages


def test_pod_range_too_small_for_flavour() -> None:
    spec = ClusterSpec(name="c1", flavour=200, pod_cidr="172.16.0.0/18")
    errors = validate_spec(spec)
    assert [e.field for e in errors] == ["pod_cidr"]
    assert "16381" in errors[0].message and "22000" in errors[0].message
    assert validate_spec(spec.model_copy(update={"max_pods_per_node": 64})) == []


def test_overlaps_with_vpc_and_subnet_outside_vpc() -> None:
    spec = ClusterSpec(name="c1", pod_cidr="192.168.128.0/17", subnet_cidr="10.1.0.0/24", service_cidr="192.168.0.0/24")
    fields = sorted(e.field for e in validate_spec(spec))
    assert fields == ["pod_cidr", "service_cidr", "subnet_cidr"]


def test_malformed_cidrs_and_types_name_the_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_spec({"name": "c1", "vpc_cidr": "192.168.0.1/16", "service_cidr": "nope"})
    assert exc.value.fields() == ["vpc_cidr", "service_cidr"]
    with pytest.raises(ValidationFailed) as exc2:
        parse_spec({"name": "c1", "flavour": "big", "unknown": 1})
    assert set(exc2.value.fields()) == {"flavour", "unknown"}


def test_ha_multi_az_large_cluster_auto_range() -> None:
    spec = parse_spec({"name": "prod", "ha": True, "multi_az": True, "flavour": 1000, "network_model": "vpc"})
    assert spec.pod_cidr == "10.0.0.0/15"
    assert spec.control_plane_replicas == 3
    assert spec.flavour_info.apiserver.cpu == "4"
