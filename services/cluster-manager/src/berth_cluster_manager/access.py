"""People's access to a tenant cluster: one ServiceAccount per Berth user in ``berth-access``,
RBAC bindings written from the user's Berth role, and short-lived bound tokens from the
TokenRequest API. Deleting the ServiceAccount invalidates every token it was issued; re-binding
it changes what all of them may do at once.

Roles map to the cluster's built-in ClusterRoles: platform-admin and tenant-admin get
``cluster-admin``; a developer ``edit`` in their namespaces; a viewer ``view`` (cluster-wide, or
in their namespaces)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from berth_schema.cluster.namespace import ACCESS_NAMESPACE
from kubernetes_asyncio.client import ApiClient

from . import kube
from .domain.limits import SYSTEM_NAMESPACES

USER_LABEL = "berth.io/access-user"  # on the ServiceAccount and every binding: the ServiceAccount's name
USER_ANNOTATION = "berth.io/user"  # the Berth principal id, verbatim
ROLE_ANNOTATION = "berth.io/role"
ADMIN_ROLES = ("platform-admin", "tenant-admin")
NAMESPACE_ROLES = {"developer": "edit", "viewer": "view"}
ROLES_READY_WITHIN = 20.0  # seconds a just-started controller-manager gets to aggregate edit and view
# ``edit`` in these would hand out more than the role: it may mint tokens of the ServiceAccounts in
# berth-access (cluster-admins among them) and read the control plane's secrets in kube-system.
PROTECTED_NAMESPACES = frozenset({ACCESS_NAMESPACE, "kube-system", "kube-public", "kube-node-lease"})
MANAGED_BY = {"app.kubernetes.io/managed-by": kube.FIELD_MANAGER}


class AccessRefused(Exception):
    """The request cannot be granted as asked; ``code`` is the query error code to answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def service_account_name(user: str) -> str:
    """A DNS-safe name derived from the user id: readable slug plus a hash that keeps distinct
    ids (``Alice`` and ``alice``, long ids with a common prefix) apart."""
    slug = re.sub(r"[^a-z0-9]+", "-", user.lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha256(user.encode()).hexdigest()[:10]
    return f"user-{slug}-{digest}" if slug else f"user-{digest}"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a role resolves to in one cluster: a cluster-wide ClusterRole, or one per namespace."""

    role: str
    cluster_role: str | None
    namespace_role: str | None = None
    namespaces: tuple[str, ...] = ()


def is_system_namespace(name: str, *, also: frozenset[str] = frozenset()) -> bool:
    return name in SYSTEM_NAMESPACES or name in PROTECTED_NAMESPACES or name.startswith("kube-") or name in also


def resolve_grant(
    role: str, requested: list[str], *, existing: list[str], system: frozenset[str] = frozenset()
) -> Grant:
    """The rights ``role`` gives in a cluster whose namespaces are ``existing``; ``system`` adds
    namespaces (addons') that "every namespace" leaves out."""
    if role in ADMIN_ROLES:
        if requested:
            raise AccessRefused(400, f"namespaces: a {role} has cluster-wide rights; leave namespaces empty")
        return Grant(role=role, cluster_role="cluster-admin")
    if role not in NAMESPACE_ROLES:
        raise AccessRefused(400, f"role: {role!r} is not platform-admin, tenant-admin, developer or viewer")
    if not requested:
        if role == "viewer":
            return Grant(role=role, cluster_role="view")
        chosen = sorted(n for n in existing if not is_system_namespace(n, also=system))
        return Grant(role=role, cluster_role=None, namespace_role="edit", namespaces=tuple(chosen))
    protected = sorted(set(requested) & PROTECTED_NAMESPACES)
    if protected:
        raise AccessRefused(400, f"namespaces: {', '.join(protected)} cannot be granted to a {role}")
    missing = sorted(set(requested) - set(existing))
    if missing:
        raise AccessRefused(404, f"namespaces: {', '.join(missing)} not found in the cluster")
    chosen = sorted(requested)
    return Grant(role=role, cluster_role=None, namespace_role=NAMESPACE_ROLES[role], namespaces=tuple(chosen))


def _labels(sa: str) -> dict[str, str]:
    return {**MANAGED_BY, USER_LABEL: sa}


def service_account(sa: str, *, user: str, role: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": sa,
            "namespace": ACCESS_NAMESPACE,
            "labels": _labels(sa),
            "annotations": {USER_ANNOTATION: user, ROLE_ANNOTATION: role},
        },
        # the account exists to be a person's identity: nothing mounts its tokens
        "automountServiceAccountToken": False,
    }


def _binding(sa: str, cluster_role: str, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"berth-access-{sa}-{cluster_role}", "labels": _labels(sa)}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
        "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ACCESS_NAMESPACE}],
    }


def bindings(sa: str, grant: Grant) -> list[dict[str, Any]]:
    if grant.cluster_role:
        return [_binding(sa, grant.cluster_role, None)]
    assert grant.namespace_role is not None
    return [_binding(sa, grant.namespace_role, ns) for ns in grant.namespaces]


def _identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj.get("kind", ""), meta.get("namespace", ""), meta["name"]


def render_kubeconfig(*, cluster: str, server: str, ca_pem: bytes, user: str, token: str, namespace: str | None) -> str:
    context: dict[str, Any] = {"cluster": cluster, "user": user}
    if namespace:
        context["namespace"] = namespace
    ca = base64.b64encode(ca_pem).decode()
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": cluster, "context": context}],
        "current-context": cluster,
        "preferences": {},
    }
    text: str = yaml.safe_dump(doc, sort_keys=False)
    return text


def credential_id(token: str) -> str:
    """The token's ``jti`` (what the API server's audit log records as its credential id); a
    digest of the token when it carries none."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        jti = claims.get("jti")
        if isinstance(jti, str) and jti:
            return jti
    except (IndexError, ValueError):
        pass
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Issued:
    service_account: str
    grant: Grant
    token: str
    expires_at: datetime
    credential_id: str

    def __repr__(self) -> str:  # never show the token
        return f"Issued(service_account={self.service_account!r}, credential_id={self.credential_id!r})"


async def _current_bindings(api: ApiClient, sa: str) -> list[dict[str, Any]]:
    selector = f"{USER_LABEL}={sa}"
    found = await kube.list_labelled(api, "ClusterRoleBinding", selector)
    found += await kube.list_labelled(api, "RoleBinding", selector)  # every namespace
    for obj in found:  # list items carry no kind
        obj.setdefault("kind", "RoleBinding" if obj["metadata"].get("namespace") else "ClusterRoleBinding")
    return found


async def _role_ready(api: ApiClient, name: str) -> None:
    """``edit`` and ``view`` are aggregated by the controller-manager: on a cluster that has just
    started they exist without rules for a few seconds, and a binding to them would grant nothing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ROLES_READY_WITHIN
    while True:
        role = await kube.get(api, "ClusterRole", name)
        if role is not None and role.get("rules"):
            return
        if loop.time() >= deadline:
            raise AccessRefused(503, f"the cluster's ClusterRole {name} has no rules yet; try again in a moment")
        await asyncio.sleep(0.5)


async def namespaces(api: ApiClient) -> list[str]:
    return [n["metadata"]["name"] for n in await kube.list_labelled(api, "Namespace", "")]


async def grant(
    api: ApiClient, *, user: str, role: str, requested: list[str], seconds: int, system: frozenset[str] = frozenset()
) -> Issued:
    """Give ``user`` exactly ``role``'s rights (bindings of another role go) and a token of ``seconds``."""
    resolved = resolve_grant(role, requested, existing=await namespaces(api), system=system)
    await _role_ready(api, resolved.cluster_role or resolved.namespace_role or "")
    sa = service_account_name(user)
    await kube.apply(
        api, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ACCESS_NAMESPACE, "labels": MANAGED_BY}}
    )
    await kube.apply(api, service_account(sa, user=user, role=role))
    wanted = bindings(sa, resolved)
    await kube.apply_all(api, wanted)
    keep = {_identity(b) for b in wanted}
    for stale in await _current_bindings(api, sa):
        kind, ns, name = _identity(stale)
        if (kind, ns, name) not in keep:
            await kube.delete(api, kind, name, ns or None)
    answer = await kube.request_token(api, sa, ACCESS_NAMESPACE, seconds=seconds)
    status = answer["status"]
    token = str(status["token"])
    expires = datetime.fromisoformat(str(status["expirationTimestamp"]).replace("Z", "+00:00"))
    return Issued(
        service_account=sa, grant=resolved, token=token, expires_at=expires, credential_id=credential_id(token)
    )


async def revoke(api: ApiClient, user: str) -> bool:
    """Delete the user's ServiceAccount (its tokens stop authenticating) and bindings; False when
    the cluster held neither."""
    sa = service_account_name(user)
    gone = await kube.delete(api, "ServiceAccount", sa, ACCESS_NAMESPACE)
    for b in await _current_bindings(api, sa):
        kind, ns, name = _identity(b)
        gone = await kube.delete(api, kind, name, ns or None) or gone
    return gone
