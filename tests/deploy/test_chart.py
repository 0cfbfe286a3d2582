"""The umbrella chart: lint, render, validate against Kubernetes' schemas, and the
production properties the platform promises (probes, drain, non-root, least privilege)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from .conftest import CHART, KUBE_VERSION, KWOK_VALUES, Helm, render

SERVICES = {
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
    "gateway",
}


def test_helm_lint(helm: Helm) -> None:
    out = helm("lint", str(CHART), "-f", str(KWOK_VALUES), "--strict", "--kube-version", KUBE_VERSION)
    assert "0 chart(s) failed" in out.stdout


@pytest.mark.parametrize(
    "flags",
    [[], ["--set", "metrics.serviceMonitor.enabled=false"], ["--set", "nats.bundled=true", "--set", "nats.replicas=3"]],
)
def test_rendered_objects_validate_against_kubernetes_schemas(helm: Helm, flags: list[str]) -> None:
    docs = render(helm, *flags)
    assert docs
    version = ".".join(KUBE_VERSION.split(".")[:2]) + ".0"
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def _deployments(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == "Deployment"]


def test_one_deployment_per_service_with_http_probes_and_drain(helm: Helm) -> None:
    deps = _deployments(render(helm))
    assert {d["metadata"]["labels"]["app.kubernetes.io/name"] for d in deps} == SERVICES
    for d in deps:
        spec = d["spec"]["template"]["spec"]
        (c,) = spec["containers"]
        name = d["metadata"]["name"]
        assert d["spec"]["replicas"] >= 2, name
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert "tcpSocket" not in c["livenessProbe"] and "tcpSocket" not in c["readinessProbe"]
        assert c["lifecycle"]["preStop"]["sleep"]["seconds"] == 5
        assert spec["terminationGracePeriodSeconds"] >= 25 + 5, "grace must cover preStop + drain"
        assert c["resources"]["requests"] and c["resources"]["limits"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert not c["image"].endswith(":latest") and ":" in c["image"]
        assert spec["affinity"]["podAntiAffinity"]
        env = {e["name"]: e for e in c.get("env", [])}
        assert "secretKeyRef" in env["BERTH_STORE_URL"]["valueFrom"], "store URI must come from a Secret"
        # one sealing key for every replica (a per-pod key file could not open another pod's writes)
        assert env["BERTH_SECRETS_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "secrets-key", name


def test_the_generated_sealing_key_is_a_fernet_key(helm: Helm) -> None:
    from cryptography.fernet import Fernet

    (secret,) = [d for d in render(helm) if d["kind"] == "Secret" and d["metadata"]["name"].endswith("-secrets-key")]
    key = base64.b64decode(secret["data"]["secrets-key"])
    Fernet(key).decrypt(Fernet(key).encrypt(b"x"))  # raises if not 32 url-safe base64 bytes


def test_pdb_networkpolicy_and_serviceaccount_per_service(helm: Helm) -> None:
    docs = render(helm)
    for kind in ("PodDisruptionBudget", "NetworkPolicy", "ServiceAccount", "Service"):
        names = {d["metadata"]["labels"]["app.kubernetes.io/name"] for d in docs if d["kind"] == kind}
        assert names == SERVICES, kind


def test_only_cluster_manager_may_create_control_planes(helm: Helm) -> None:
    docs = render(helm)
    roles = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ClusterRole"}
    cm = roles["t-berth-cluster-manager"]
    granted = {(g, r): set(rule["verbs"]) for rule in cm["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert "create" in granted[("apps", "deployments")] and "create" in granted[("apps", "statefulsets")]
    assert "create" in granted[("", "namespaces")]
    assert not any("*" in v or r == "*" or g == "*" for (g, r), v in granted.items()), "no wildcards"
    assert ("rbac.authorization.k8s.io", "clusterroles") not in granted, "no RBAC escalation"
    nm = roles["t-berth-node-manager"]
    assert all(set(rule["verbs"]) <= {"get", "list", "watch"} for rule in nm["rules"])
    others = [d for d in docs if d["kind"] == "ClusterRole"]
    assert len(others) == 2, "the other services get no cluster rights"


def test_monitoring_objects_behind_a_flag(helm: Helm) -> None:
    kinds = {d["kind"] for d in render(helm)}
    assert "ServiceMonitor" not in kinds and "PrometheusRule" not in kinds
    kinds = {
        d["kind"]
        for d in render(
            helm, "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.prometheusRule.enabled=true"
        )
    }
    assert {"ServiceMonitor", "PrometheusRule"} <= kinds


def test_bundled_nats_cluster_of_three(helm: Helm) -> None:
    docs = render(helm, "--set", "nats.bundled=true", "--set", "nats.replicas=3")
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    assert sts["spec"]["replicas"] == 3
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "t-berth-config")
    assert cm["data"]["BERTH_STREAM_REPLICAS"] == "3"
    assert cm["data"]["BERTH_NATS_URL"].count("nats://") == 3


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("image.tag=latest", "/image/tag"),
        ("nats.replicas=2", "/nats/replicas"),
        ("replicaCount=0", "/replicaCount"),
        ("logLevel=LOUD", "/logLevel"),
        ("mongodb.uri=postgres://x", "/mongodb/uri"),
        ("services.frontend.enabled=true", "frontend"),
        ("services.gateway.env.PATH=/tmp", "'PATH' does not match pattern"),
    ],
)
def test_values_schema_rejects_bad_values_clearly(helm: Helm, flag: str, message: str) -> None:
    out = helm(
        "template", "t", str(CHART), "-f", str(KWOK_VALUES), "--kube-version", KUBE_VERSION, "--set", flag, check=False
    )
    assert out.returncode != 0
    assert "values don't meet the specifications of the schema" in out.stderr
    assert message in out.stderr


def test_external_nats_needs_a_url(helm: Helm) -> None:
    out = helm("template", "t", str(CHART), "--kube-version", KUBE_VERSION, "--set", "nats.bundled=false", check=False)
    assert out.returncode != 0 and "url" in out.stderr


def test_schema_file_is_valid_json() -> None:
    json.loads((Path(CHART) / "values.schema.json").read_text())


def test_a_service_takes_its_own_settings_from_values(helm: Helm) -> None:
    url = "https://{cluster}-{tenant}.api.example.com:6443"
    docs = render(helm, "--set-string", f"services.cluster-manager.env.BERTH_CM_API_PUBLIC_URL={url}")
    envs = {
        d["metadata"]["labels"]["app.kubernetes.io/name"]: {
            e["name"]: e.get("value") for e in d["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        for d in _deployments(docs)
    }
    assert envs["cluster-manager"]["BERTH_CM_API_PUBLIC_URL"] == url
    assert "BERTH_CM_API_PUBLIC_URL" not in envs["node-manager"]


def test_each_service_connects_to_nats_as_its_own_user(helm: Helm) -> None:
    """The bundled NATS loads the authorization generated from libs/schema; each service gets its own
    user and password, and nats-server reads every password from the same generated Secret."""
    docs = render(helm, "--set", "nats.bundled=true")
    (passwords,) = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].endswith("-nats-passwords")]
    assert set(passwords["data"]) == SERVICES
    for dep in _deployments(docs):
        svc = dep["metadata"]["labels"]["app.kubernetes.io/name"]
        env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["BERTH_NATS_USER"]["value"] == svc
        ref = env["BERTH_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == (passwords["metadata"]["name"], svc)
    (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-nats")]
    assert "include authorization.conf" in config["data"]["nats.conf"]
    assert config["data"]["authorization.conf"] == (CHART / "files/nats-authorization.conf").read_text()
    (sts,) = [d for d in docs if d["kind"] == "StatefulSet"]
    nats_env = {e["name"] for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert {f"BERTH_NATS_PASSWORD_{s.upper().replace('-', '_')}" for s in SERVICES} <= nats_env


def test_the_gateway_gets_a_generated_hooks_token(helm: Helm) -> None:
    """Hooks are closed until a token is set, so the chart sets one (gateway only)."""
    docs = render(helm)
    (secret,) = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].endswith("-hooks-token")]
    assert len(base64.b64decode(secret["data"]["hooks-token"])) == 40
    for dep in _deployments(docs):
        names = {e["name"] for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
        is_gateway = dep["metadata"]["labels"]["app.kubernetes.io/name"] == "gateway"
        assert ("BERTH_GATEWAY_HOOKS_TOKEN" in names) == is_gateway


def test_the_gateway_serves_https_with_a_generated_certificate(helm: Helm) -> None:
    """HTTPS by default: a generated kubernetes.io/tls Secret mounted into the gateway alone, the
    settings pointing at it, and the Ingress speaking HTTPS to its backend; plain HTTP only on request."""
    from cryptography import x509

    docs = render(helm)
    (secret,) = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].endswith("-gateway-tls")]
    assert secret["type"] == "kubernetes.io/tls"
    cert = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "t-berth-gateway.berth.svc" in names and "berth.test" in names, names
    ca = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["ca.crt"]))
    cert.verify_directly_issued_by(ca)  # the CA in the Secret signed the serving certificate
    for dep in _deployments(docs):
        spec = dep["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        mounts = {m["name"] for m in spec["containers"][0]["volumeMounts"]}
        is_gateway = dep["metadata"]["labels"]["app.kubernetes.io/name"] == "gateway"
        assert ("gateway-tls" in mounts) == is_gateway
        if is_gateway:
            assert env["BERTH_GATEWAY_TLS_CERT_FILE"] == "/etc/berth/gateway-tls/tls.crt"
            assert "BERTH_GATEWAY_INSECURE_HTTP" not in env
    (ingress,) = [d for d in docs if d["kind"] == "Ingress"]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == "HTTPS"

    plain = render(helm, "--set", "gateway.tls.insecureHttp=true")
    assert not [d for d in plain if d["kind"] == "Secret" and d["metadata"]["name"].endswith("-gateway-tls")]
    (gw,) = [d for d in _deployments(plain) if d["metadata"]["labels"]["app.kubernetes.io/name"] == "gateway"]
    env = {e["name"]: e.get("value") for e in gw["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["BERTH_GATEWAY_INSECURE_HTTP"] == "true" and "BERTH_GATEWAY_TLS_CERT_FILE" not in env
