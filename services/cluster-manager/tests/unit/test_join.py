"""Join tokens as the API server reads them, and what a cluster needs before nodes can join."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from berth_cluster_manager.join import JOIN_GROUP, JoinToken, check_ttl, join_objects, token_secret
from berth_cluster_manager.pki import new_ca


def test_a_token_has_kubeadms_shape_and_never_shows_its_secret() -> None:
    token = JoinToken.new(expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC), description="pool web")
    assert len(token.token_id) == 6 and len(token.secret) == 16 and token.token == f"{token.token_id}.{token.secret}"
    assert token.secret not in repr(token)
    secret = token_secret(token)
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert secret["metadata"] == {
        "name": f"bootstrap-token-{token.token_id}",
        "namespace": "kube-system",
        "labels": {"app.kubernetes.io/managed-by": "berth-cluster-manager"},
    }
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["expiration"] == "2030-01-02T03:04:05Z"
    assert data["usage-bootstrap-authentication"] == data["usage-bootstrap-signing"] == "true"
    assert data["auth-extra-groups"] == JOIN_GROUP and JOIN_GROUP.startswith("system:bootstrappers:")


@pytest.mark.parametrize("bad", [59, 7 * 86400 + 1, -1, "3600", 1.5, True])
def test_a_ttl_outside_a_minute_to_a_week_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        check_ttl(bad)


def test_a_ttl_inside_the_bounds_is_taken() -> None:
    assert check_ttl(3600) == timedelta(hours=1)


def test_join_setup_lets_token_holders_file_node_csrs_and_anyone_read_cluster_info() -> None:
    ca = new_ca("c1-ca", now=datetime.now(UTC)).cert.encode()
    objs = join_objects(server="https://127.0.0.1:6443", ca_pem=ca)
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    bootstrappers = by_name[("ClusterRoleBinding", "berth:node-bootstrapper")]
    assert bootstrappers["roleRef"]["name"] == "system:node-bootstrapper"
    assert bootstrappers["subjects"][0]["name"] == JOIN_GROUP
    approve = by_name[("ClusterRoleBinding", "berth:node-autoapprove-bootstrap")]
    assert approve["roleRef"]["name"].endswith(":nodeclient")
    info = by_name[("ConfigMap", "cluster-info")]
    assert info["metadata"]["namespace"] == "kube-public"
    kubeconfig = yaml.safe_load(info["data"]["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]) == ca
    assert kubeconfig["users"] == []  # no credentials in a world-readable ConfigMap
    anonymous = by_name[("RoleBinding", "berth:bootstrap-signer-clusterinfo")]
    assert anonymous["subjects"][0]["name"] == "system:anonymous"
    role = by_name[("Role", "berth:bootstrap-signer-clusterinfo")]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}
    ]
