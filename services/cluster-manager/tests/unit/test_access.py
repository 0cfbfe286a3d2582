"""People's access to a tenant cluster, without one: the names, the rights each role resolves to,
the bindings, the kubeconfig and the request models' bounds."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from berth_cluster_manager.access import (
    ACCESS_NAMESPACE,
    AccessRefused,
    bindings,
    credential_id,
    render_kubeconfig,
    resolve_grant,
    service_account,
    service_account_name,
)
from berth_schema.cluster import IssueUserKubeconfig, ListUserKubeconfigs, NamespaceSpec, RevokeUserKubeconfig
from pydantic import ValidationError

RBAC = "rbac.authorization.k8s.io"
EXISTING = ["default", "kube-system", "kube-public", "kube-node-lease", ACCESS_NAMESPACE, "ingress-nginx", "a", "b"]


@pytest.mark.parametrize("user", ["alice", "Alice@Example.COM", "x" * 256, "李雷", "oidc|1234/5", "-"])
def test_a_service_account_name_is_dns_safe_and_tells_users_apart(user: str) -> None:
    name = service_account_name(user)
    assert len(name) <= 63 and name.startswith("user-")
    assert all(ch.isascii() and (ch.isalnum() or ch == "-") for ch in name) and name == name.lower()
    assert not name.endswith("-")
    assert service_account_name(user) == name  # stable across issues
    assert service_account_name(user + "x") != name
    if user.swapcase() != user:
        assert service_account_name(user.swapcase()) != name


def test_admins_get_cluster_admin_and_may_not_name_namespaces() -> None:
    for role in ("platform-admin", "tenant-admin"):
        grant = resolve_grant(role, [], existing=EXISTING)
        assert grant.cluster_role == "cluster-admin" and grant.namespaces == ()
        with pytest.raises(AccessRefused, match="leave namespaces empty") as refused:
            resolve_grant(role, ["a"], existing=EXISTING)
        assert refused.value.code == 400


def test_a_viewer_views_cluster_wide_or_in_their_namespaces() -> None:
    assert resolve_grant("viewer", [], existing=EXISTING).cluster_role == "view"
    scoped = resolve_grant("viewer", ["b"], existing=EXISTING)
    assert (scoped.cluster_role, scoped.namespace_role, scoped.namespaces) == (None, "view", ("b",))


def test_a_developer_edits_their_namespaces_or_every_non_system_one() -> None:
    named = resolve_grant("developer", ["b", "a"], existing=EXISTING)
    assert (named.cluster_role, named.namespace_role, named.namespaces) == (None, "edit", ("a", "b"))
    every = resolve_grant("developer", [], existing=EXISTING, system=frozenset({"ingress-nginx"}))
    assert every.namespaces == ("a", "b")  # neither kube-*, default, berth-access nor an addon's
    assert resolve_grant("developer", ["default"], existing=EXISTING).namespaces == ("default",)


@pytest.mark.parametrize("ns", [ACCESS_NAMESPACE, "kube-system"])
def test_a_developer_is_never_given_a_namespace_that_escalates(ns: str) -> None:
    with pytest.raises(AccessRefused, match="cannot be granted") as refused:
        resolve_grant("developer", ["a", ns], existing=EXISTING)
    assert refused.value.code == 400


def test_a_namespace_that_does_not_exist_is_404() -> None:
    with pytest.raises(AccessRefused, match="nope not found") as refused:
        resolve_grant("developer", ["nope"], existing=EXISTING)
    assert refused.value.code == 404


def test_bindings_name_the_role_so_a_changed_role_is_a_new_binding() -> None:
    sa = service_account_name("bob")
    admin = bindings(sa, resolve_grant("tenant-admin", [], existing=EXISTING))
    viewer = bindings(sa, resolve_grant("viewer", [], existing=EXISTING))
    assert [b["kind"] for b in admin] == ["ClusterRoleBinding"]
    assert admin[0]["roleRef"] == {"apiGroup": RBAC, "kind": "ClusterRole", "name": "cluster-admin"}
    assert admin[0]["subjects"] == [{"kind": "ServiceAccount", "name": sa, "namespace": ACCESS_NAMESPACE}]
    assert admin[0]["metadata"]["name"] != viewer[0]["metadata"]["name"]  # roleRef is immutable
    dev = bindings(sa, resolve_grant("developer", ["a", "b"], existing=EXISTING))
    assert [(b["kind"], b["metadata"]["namespace"], b["roleRef"]["name"]) for b in dev] == [
        ("RoleBinding", "a", "edit"),
        ("RoleBinding", "b", "edit"),
    ]
    assert all(b["metadata"]["labels"]["berth.io/access-user"] == sa for b in admin + dev)


def test_the_service_account_carries_the_user_id_and_mounts_nothing() -> None:
    sa = service_account("user-x-1", user="X <x@example.com>", role="viewer")
    assert sa["metadata"]["namespace"] == ACCESS_NAMESPACE
    assert sa["metadata"]["annotations"] == {"berth.io/user": "X <x@example.com>", "berth.io/role": "viewer"}
    assert sa["automountServiceAccountToken"] is False


def test_the_kubeconfig_carries_the_token_server_and_ca() -> None:
    text = render_kubeconfig(
        cluster="c1", server="https://api:6443", ca_pem=b"PEM", user="alice", token="tok", namespace="a"
    )
    doc = yaml.safe_load(text)
    assert doc["clusters"] == [
        {"name": "c1", "cluster": {"server": "https://api:6443", "certificate-authority-data": "UEVN"}}
    ]
    assert doc["users"] == [{"name": "alice", "user": {"token": "tok"}}]
    assert doc["contexts"] == [{"name": "c1", "context": {"cluster": "c1", "user": "alice", "namespace": "a"}}]
    assert doc["current-context"] == "c1"


def test_the_credential_id_is_the_tokens_jti() -> None:
    claims = base64.urlsafe_b64encode(json.dumps({"jti": "abc-123"}).encode()).decode().rstrip("=")
    assert credential_id(f"h.{claims}.s") == "abc-123"
    assert credential_id("not-a-jwt").startswith("sha256:")


def test_the_requests_bound_ttl_role_and_user() -> None:
    base = {"tenant": "t1", "cluster": "c1", "user": "alice", "role": "developer"}
    assert IssueUserKubeconfig(**base).ttl_seconds == 8 * 3600
    for bad in ({"ttl_seconds": 599}, {"ttl_seconds": 24 * 3600 + 1}, {"ttl_seconds": "3600"}, {"role": "root"}):
        with pytest.raises(ValidationError):
            IssueUserKubeconfig(**{**base, **bad})
    with pytest.raises(ValidationError):
        IssueUserKubeconfig(**{**base, "namespaces": ["Not_A_Name"]})
    with pytest.raises(ValidationError):
        RevokeUserKubeconfig(tenant="t1", cluster="c1", user="a\nb")
    assert ListUserKubeconfigs(tenant="t1", cluster="c1", limit=500, extra="ignored").limit == 500


def test_berth_access_cannot_be_made_through_create_namespace() -> None:
    with pytest.raises(ValidationError, match="'berth-access' is reserved"):
        NamespaceSpec(name=ACCESS_NAMESPACE)
