from __future__ import annotations

from pathlib import Path

import pytest
from berth_cluster_manager.config import ClusterManagerSettings
from berth_cluster_manager.domain import FLAVOURS, Offer, ValidationFailed, parse_spec, resolve
from berth_cluster_manager.domain.versions import DEFAULT_VERSION, SUPPORTED_VERSIONS
from berth_cluster_manager.providers import Providers
from berth_schema.cluster import ClusterSpec, CreateCluster
from berth_schema.cluster import spec as schema_spec
from berth_schema.cluster.network import parse_cidr, pod_capacity, service_ip, subnet_available_ips

LOCAL_ONLY = Offer(providers=("local",))
WITH_HOST = Offer(providers=("local", "hosted"))


def test_form_defaults_are_valid_and_pick_a_pod_range() -> None:
    spec = parse_spec({"name": "test-cluster"})
    assert spec.pod_cidr == "10.0.0.0/19"  # smallest recommended range for 50 x 110 pods
    assert spec.service_ip() == "10.247.0.1"
    assert spec.control_plane_replicas == 1
    assert spec.version == DEFAULT_VERSION


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
    # the schema's rules and this service's (the supported versions) in one answer
    for f in ("name", "version", "description", "network_model", "kube_proxy_mode", "multi_az"):
        assert f in fields, fields
    messages = str(exc.value)
    assert "'v1.11.7' is not supported" in messages
    assert "overlaps the service CIDR" in messages
    assert "1000 nodes x 110 pods per node need 110000" in messages


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


def test_sizing_covers_every_flavour_the_form_offers() -> None:
    assert tuple(FLAVOURS) == schema_spec.FLAVOURS


def test_an_empty_provider_is_the_one_configured_here() -> None:
    form = ClusterSpec(name="demo")
    assert form.provider is None
    assert resolve(form, offer=LOCAL_ONLY).provider == "local"
    assert resolve(form, offer=WITH_HOST).provider == "hosted"
    assert LOCAL_ONLY.default_provider == "local" and WITH_HOST.default_provider == "hosted"
    # what a create command carries (the gateway's body) resolves the same way
    cmd = CreateCluster.model_validate({"spec": {"name": "demo"}})
    assert resolve(cmd.spec, offer=LOCAL_ONLY).provider == "local"
    assert resolve(ClusterSpec(name="demo", provider="local"), offer=WITH_HOST).provider == "local"


def test_a_provider_not_configured_here_is_refused_naming_it() -> None:
    with pytest.raises(ValidationFailed) as exc:
        resolve(ClusterSpec(name="demo", provider="hosted"), offer=LOCAL_ONLY)
    assert exc.value.fields() == ["provider"]
    assert "BERTH_CM_HOST_KUBECONFIG" in str(exc.value) and "configured: local" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc2:
        parse_spec({"name": "Bad", "provider": "hosted"}, offer=LOCAL_ONLY)
    assert exc2.value.fields() == ["name", "provider"]


def test_unsupported_version_is_refused_by_the_service_not_the_form() -> None:
    form = ClusterSpec(name="demo", version="v1.11.7")  # a well-formed version: the form accepts it
    with pytest.raises(ValidationFailed, match="not supported") as exc:
        resolve(form, offer=LOCAL_ONLY)
    assert exc.value.fields() == ["version"]
    assert resolve(ClusterSpec(name="demo", version=SUPPORTED_VERSIONS[0])).version == SUPPORTED_VERSIONS[0]


def test_configured_providers_set_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    local_only = Providers.from_settings(ClusterManagerSettings(), data_dir=tmp_path)
    assert Offer(providers=local_only.names()).default_provider == "local"
    kubeconfig = tmp_path / "host.kubeconfig"
    kubeconfig.write_text("")
    both = Providers.from_settings(ClusterManagerSettings(host_kubeconfig=str(kubeconfig)), data_dir=tmp_path)
    assert Offer(providers=both.names()).default_provider == "hosted"
