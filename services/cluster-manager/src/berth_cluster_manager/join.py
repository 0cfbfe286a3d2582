"""Node join for a tenant cluster, the kubeadm way: bootstrap tokens (Secrets the API server
accepts as ``system:bootstrap:<id>``), the RBAC that lets their holders file a kubelet client CSR
which the controller-manager approves and signs, and the ``cluster-info`` ConfigMap in kube-public
that the bootstrap signer signs with each token, so a joining node can check the CA it is given.

Works with any kubelet that does TLS bootstrap (``--bootstrap-kubeconfig``) and with
``berth node join``; both are checked against ``ca_cert_hash`` (the SHA-256 of the CA's public key).
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient

from . import kube

JOIN_GROUP = "system:bootstrappers:berth:nodes"
TOKEN_ID = re.compile(r"^[a-z0-9]{6}$")
MIN_TTL = timedelta(minutes=1)
MAX_TTL = timedelta(days=7)
DEFAULT_TTL = timedelta(hours=24)  # kubeadm's default
_ALPHABET = string.ascii_lowercase + string.digits


def check_ttl(seconds: Any) -> timedelta:
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError("ttl_seconds: must be a whole number of seconds")
    ttl = timedelta(seconds=seconds)
    if not MIN_TTL <= ttl <= MAX_TTL:
        raise ValueError(
            f"ttl_seconds: must be between {int(MIN_TTL.total_seconds())} and {int(MAX_TTL.total_seconds())}"
        )
    return ttl


@dataclass(frozen=True, slots=True)
class JoinToken:
    token_id: str
    secret: str = ""
    expires: datetime | None = None
    description: str = ""

    @property
    def token(self) -> str:
        return f"{self.token_id}.{self.secret}"

    @classmethod
    def new(cls, *, expires: datetime, description: str) -> JoinToken:
        return cls(
            token_id="".join(secrets.choice(_ALPHABET) for _ in range(6)),
            secret="".join(secrets.choice(_ALPHABET) for _ in range(16)),
            expires=expires,
            description=description,
        )

    def __repr__(self) -> str:  # never show the secret half
        return f"JoinToken(token_id={self.token_id!r}, expires={self.expires!r})"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def token_secret(token: JoinToken) -> dict[str, Any]:
    """The bootstrap-token Secret; the API server expires it at ``expiration`` and the controller-
    manager's token cleaner deletes it."""
    assert token.expires is not None
    data = {
        "token-id": token.token_id,
        "token-secret": token.secret,
        "description": token.description,
        "expiration": token.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "auth-extra-groups": JOIN_GROUP,
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "bootstrap.kubernetes.io/token",
        "metadata": {
            "name": f"bootstrap-token-{token.token_id}",
            "namespace": "kube-system",
            "labels": {"app.kubernetes.io/managed-by": kube.FIELD_MANAGER},
        },
        "data": {k: _b64(v) for k, v in data.items()},
    }


def cluster_info_kubeconfig(*, server: str, ca_pem: bytes) -> str:
    text: str = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "",
                    "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()},
                }
            ],
            "contexts": [],
            "users": [],
            "current-context": "",
            "preferences": {},
        }
    )
    return text


def _binding(name: str, role: str, subject: dict[str, str], *, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding" if namespace else "ClusterRoleBinding",
        "metadata": meta,
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role" if namespace else "ClusterRole",
            "name": role,
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", **subject}],
    }


def join_objects(*, server: str, ca_pem: bytes) -> list[dict[str, Any]]:
    """What a cluster needs once before any node can join (kubeadm's bootstrap-token phase)."""
    joiners = {"kind": "Group", "name": JOIN_GROUP}
    return [
        # holders of a join token may file a node CSR, and the controller-manager approves it
        _binding("berth:node-bootstrapper", "system:node-bootstrapper", joiners),
        _binding(
            "berth:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            joiners,
        ),
        # joined nodes renew their own client certificates
        _binding(
            "berth:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            {"kind": "Group", "name": "system:nodes"},
        ),
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cluster-info", "namespace": "kube-public"},
            "data": {"kubeconfig": cluster_info_kubeconfig(server=server, ca_pem=ca_pem)},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": "berth:bootstrap-signer-clusterinfo", "namespace": "kube-public"},
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}
            ],
        },
        _binding(
            "berth:bootstrap-signer-clusterinfo",
            "berth:bootstrap-signer-clusterinfo",
            {"kind": "User", "name": "system:anonymous"},
            namespace="kube-public",
        ),
    ]


def admin_access(kubeconfig: dict[str, Any]) -> tuple[str, bytes]:
    """(server, CA PEM) from an admin kubeconfig: what a joining node is told to trust."""
    cluster = kubeconfig["clusters"][0]["cluster"]
    ca = cluster.get("certificate-authority-data")
    if not ca:
        raise ValueError("the cluster's kubeconfig carries no certificate-authority-data")
    return str(cluster["server"]), base64.b64decode(ca)


async def issue(api: ApiClient, *, server: str, ca_pem: bytes, expires: datetime, description: str) -> JoinToken:
    """Make sure joining is set up in the tenant cluster, then create a fresh token."""
    await kube.apply_all(api, join_objects(server=server, ca_pem=ca_pem))
    token = JoinToken.new(expires=expires, description=description)
    await kube.apply(api, token_secret(token))
    return token


async def revoke(api: ApiClient, token_id: str) -> bool:
    if not TOKEN_ID.match(token_id):
        raise ValueError("token_id: six lowercase letters or digits")
    return await kube.delete(api, "Secret", f"bootstrap-token-{token_id}", "kube-system")


async def list_tokens(api: ApiClient) -> list[JoinToken]:
    """Live tokens (ids, expiry and description only: secrets never leave the tenant cluster here)."""
    out: list[JoinToken] = []
    for s in await kube.list_labelled(
        api, "Secret", f"app.kubernetes.io/managed-by={kube.FIELD_MANAGER}", "kube-system"
    ):
        if s.get("type") != "bootstrap.kubernetes.io/token":
            continue
        data = {k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()}
        expires = datetime.fromisoformat(data["expiration"].replace("Z", "+00:00")) if data.get("expiration") else None
        out.append(
            JoinToken(token_id=data.get("token-id", ""), expires=expires, description=data.get("description", ""))
        )
    return sorted(out, key=lambda t: t.token_id)
