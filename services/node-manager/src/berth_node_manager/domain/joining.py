"""Which pool a joined node belongs to. A node may call itself anything and claim any pool label;
what it cannot fake is the bootstrap token its certificate request was filed with. So a node is
adopted into the pool that token was issued for, and only then gets the pool's labels and taints."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from berth_schema.node.labels import POOL_LABEL
from cryptography import x509
from cryptography.x509.oid import NameOID

from .nodes import SOURCE_ANNOTATION
from .pools import NodePool

KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
BOOTSTRAP_USER_PREFIX = "system:bootstrap:"
NODE_USER_PREFIX = "system:node:"
TOKEN_ANNOTATION = "berth.io/join-token"


@dataclass(frozen=True, slots=True)
class Adoption:
    node: str
    pool: str
    token_id: str


def _requested_node(csr: Mapping[str, Any]) -> str:
    """The node name a CSR asks a certificate for ('' if it is not a node client request)."""
    try:
        pem = base64.b64decode(csr["spec"]["request"])
        req = x509.load_pem_x509_csr(pem)
    except (KeyError, ValueError, TypeError):
        return ""
    names = req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = str(names[0].value) if names else ""
    return cn.removeprefix(NODE_USER_PREFIX) if cn.startswith(NODE_USER_PREFIX) else ""


def _issued(csr: Mapping[str, Any]) -> bool:
    status = csr.get("status") or {}
    approved = any(c.get("type") == "Approved" for c in status.get("conditions") or [])
    return approved and bool(status.get("certificate"))


def tokens_by_node(csrs: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """node name -> id of the bootstrap token whose holder was issued that node's certificate."""
    out: dict[str, str] = {}
    for csr in csrs:
        spec = csr.get("spec") or {}
        user = str(spec.get("username") or "")
        if spec.get("signerName") != KUBELET_CLIENT_SIGNER or not user.startswith(BOOTSTRAP_USER_PREFIX):
            continue
        if not _issued(csr) or not (node := _requested_node(csr)):
            continue
        out[node] = user.removeprefix(BOOTSTRAP_USER_PREFIX)
    return out


def plan_adoptions(
    nodes: Iterable[Mapping[str, Any]], csrs: Iterable[Mapping[str, Any]], token_pools: Mapping[str, str]
) -> list[Adoption]:
    """Nodes not yet adopted whose certificate came from a token issued for one of our pools."""
    by_node = tokens_by_node(csrs)
    out: list[Adoption] = []
    for node in nodes:
        meta = node.get("metadata") or {}
        if (meta.get("annotations") or {}).get(SOURCE_ANNOTATION):
            continue  # created by node-manager, or already adopted
        name = str(meta.get("name", ""))
        token_id = by_node.get(name, "")
        pool = token_pools.get(token_id, "")
        if pool:
            out.append(Adoption(node=name, pool=pool, token_id=token_id))
    return sorted(out, key=lambda a: a.node)


def join_command(*, server: str, token: str, ca_cert_hash: str, pool: NodePool) -> str:
    """The line an operator runs on the new machine: it registers with the pool's flavour, and with
    the pool's taints from the first moment (so nothing lands on it before it is adopted)."""
    argv = [
        "berth",
        "node",
        "join",
        "--server",
        server,
        "--token",
        token,
        "--ca-cert-hash",
        ca_cert_hash,
        "--cpu",
        str(pool.flavour.cpu),
        "--memory-gib",
        str(pool.flavour.memory_gib),
        "--max-pods",
        str(pool.max_pods),
        "--label",
        f"{POOL_LABEL}={pool.name}",
    ]
    for t in pool.node_taints():
        argv += ["--taint", str(t)]
    return shlex.join(argv)


def bootstrap_kubeconfig(*, server: str, token: str, ca_pem: bytes) -> dict[str, Any]:
    """For a real kubelet: ``kubelet --bootstrap-kubeconfig=<this> --kubeconfig=<where to keep its cert>``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "default",
                "cluster": {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()},
            }
        ],
        "users": [{"name": "kubelet-bootstrap", "user": {"token": token}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "kubelet-bootstrap"}}],
        "current-context": "default",
    }
