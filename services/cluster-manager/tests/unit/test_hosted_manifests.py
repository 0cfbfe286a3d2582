from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from berth_cluster_manager.domain import parse_spec
from berth_cluster_manager.pki import ClusterPki, PkiParams
from berth_cluster_manager.providers.base import ClusterRef
from berth_cluster_manager.providers.hosted_manifests import (
    HostedOptions,
    control_plane_objects,
    namespace_for,
    node_cidr_mask,
)


@pytest.fixture(scope="module")
def pki() -> ClusterPki:
    return ClusterPki.issue(PkiParams(cluster="c1", service_cidr="10.247.0.0/16"), now=datetime.now(UTC))


def _objs(pki: ClusterPki, **form: object) -> dict[tuple[str, str], dict]:
    spec = parse_spec({"name": "c1", **form})
    objs = control_plane_objects(ClusterRef("t1", "c1", spec), pki, version=spec.version, options=HostedOptions())
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def test_single_small_cluster(pki: ClusterPki) -> None:
    objs = _objs(pki)
    ns = namespace_for(ClusterRef("t1", "c1", parse_spec({"name": "c1"})))
    assert ns == "berth-t1-c1"
    assert all(o["metadata"].get("namespace", ns) == ns for o in objs.values())
    assert all(o["metadata"]["labels"]["berth.io/cluster"] == "c1" for o in objs.values())
    sts = objs[("StatefulSet", "c1-etcd")]
    assert sts["spec"]["replicas"] == 1 and "affinity" not in sts["spec"]["template"]["spec"]
    api = objs[("Deployment", "c1-kube-apiserver")]
    pod = api["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["containers"][0]["resources"]["requests"] == {"cpu": "250m", "memory": "512Mi"}
    cmd = pod["containers"][0]["command"]
    assert "--service-cluster-ip-range=10.247.0.0/16" in cmd and "--authorization-mode=Node,RBAC" in cmd
    # the API server gets only its own files, never the CA keys
    items = {i["key"] for i in pod["volumes"][0]["secret"]["items"]}
    assert "ca.key" not in items and "apiserver.key" in items
    for kind in ("PodDisruptionBudget", "CronJob", "Service", "Secret", "Namespace", "ConfigMap"):
        assert any(k == kind for k, _ in objs), kind
    assert objs[("CronJob", "c1-etcd-backup")]["spec"]["schedule"] == "0 */6 * * *"


def test_ha_multi_az_large(pki: ClusterPki) -> None:
    objs = _objs(pki, ha=True, multi_az=True, flavour=1000, kube_proxy_mode="ipvs", rbac=False)
    sts = objs[("StatefulSet", "c1-etcd")]
    assert sts["spec"]["replicas"] == 3
    assert "c1-etcd-2=https://c1-etcd-2.c1-etcd.berth-t1-c1.svc:2380" in " ".join(
        sts["spec"]["template"]["spec"]["containers"][0]["command"]
    )
    anti = sts["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert anti["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == "topology.kubernetes.io/zone"
    api = objs[("Deployment", "c1-kube-apiserver")]
    assert api["spec"]["replicas"] == 3
    assert api["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "4"
    assert "--authorization-mode=AlwaysAllow" in api["spec"]["template"]["spec"]["containers"][0]["command"]
    assert objs[("ConfigMap", "c1-cluster-config")]["data"]["kubeProxyMode"] == "ipvs"
    assert objs[("Deployment", "c1-kube-scheduler")]["spec"]["replicas"] == 2


def test_node_cidr_mask() -> None:
    assert node_cidr_mask(110) == 24
    assert node_cidr_mask(64) == 25


async def test_machines_join_a_hosted_cluster_through_its_public_url_which_its_certificate_names() -> None:
    from berth_cluster_manager.providers.hosted import HostedProvider
    from berth_cluster_manager.providers.hosted_manifests import api_hosts
    from cryptography import x509

    ref = ClusterRef("acme", "prod", parse_spec({"name": "prod"}))
    options = HostedOptions(public_url_template="https://{cluster}-{tenant}.api.example.com:6443")
    assert options.public_url(ref) == "https://prod-acme.api.example.com:6443"
    assert api_hosts(ref, options)[-1] == "prod-acme.api.example.com"
    assert "prod-acme.api.example.com" not in api_hosts(ref, HostedOptions())

    async def no_host() -> Any:
        raise AssertionError("the public URL needs no host-cluster call")

    provider = HostedProvider(no_host, options=options)
    assert await provider.join_server(ref) == "https://prod-acme.api.example.com:6443"
    pki = provider._new_pki(ref)
    cert = x509.load_pem_x509_certificate(pki.leaves["apiserver"].cert.encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "prod-acme.api.example.com" in names

    with pytest.raises(ValueError, match="https://"):
        HostedOptions(public_url_template="http://{cluster}.example.com").public_url(ref)
