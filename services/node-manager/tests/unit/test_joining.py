"""Joining, the parts without a server: the bootstrap signer's JWS check, which token a node's
certificate came from, which nodes get adopted into which pool, and the join command."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from berth_node_manager.agent.discovery import JoinError, parse_token, verify_detached_jws
from berth_node_manager.agent.tls_bootstrap import node_csr
from berth_node_manager.domain.joining import (
    KUBELET_CLIENT_SIGNER,
    Adoption,
    bootstrap_kubeconfig,
    join_command,
    plan_adoptions,
    tokens_by_node,
)
from berth_node_manager.domain.pools import Flavour, NodePool
from berth_schema.node.labels import Taint


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(content: str, token_id: str, secret: str, *, alg: str = "HS256") -> str:
    """What kube-controller-manager's bootstrapsigner writes: a detached compact JWS."""
    header = _b64url(json.dumps({"alg": alg, "kid": token_id}).encode())
    mac = hmac.new(secret.encode(), f"{header}.{_b64url(content.encode())}".encode(), hashlib.sha256).digest()
    return f"{header}..{_b64url(mac)}"


def test_a_signature_made_with_the_token_verifies() -> None:
    jws = sign("kubeconfig: yes", "abcdef", "0123456789abcdef")
    assert verify_detached_jws(jws, "kubeconfig: yes", token_id="abcdef", token_secret="0123456789abcdef")


@pytest.mark.parametrize(
    ("jws_args", "content", "token_id", "secret"),
    [
        (("kubeconfig: yes", "abcdef", "0123456789abcdef"), "kubeconfig: tampered", "abcdef", "0123456789abcdef"),
        (("kubeconfig: yes", "abcdef", "0123456789abcdef"), "kubeconfig: yes", "abcdef", "ffffffffffffffff"),
        (("kubeconfig: yes", "zzzzzz", "0123456789abcdef"), "kubeconfig: yes", "abcdef", "0123456789abcdef"),
    ],
    ids=["content changed", "another secret", "another token id"],
)
def test_a_signature_that_does_not_match_is_refused(
    jws_args: tuple[str, str, str], content: str, token_id: str, secret: str
) -> None:
    assert not verify_detached_jws(sign(*jws_args), content, token_id=token_id, token_secret=secret)


def test_malformed_or_unsigned_jws_is_refused() -> None:
    good = sign("c", "abcdef", "0123456789abcdef")
    header, _, mac = good.split(".")
    assert not verify_detached_jws(f"{header}.{_b64url(b'c')}.{mac}", "c", token_id="abcdef", token_secret="0" * 16)
    assert not verify_detached_jws("not-a-jws", "c", token_id="abcdef", token_secret="0123456789abcdef")
    none_alg = sign("c", "abcdef", "0123456789abcdef", alg="none")
    assert not verify_detached_jws(none_alg, "c", token_id="abcdef", token_secret="0123456789abcdef")


@pytest.mark.parametrize("token", ["abcdef", "ABCDEF.0123456789abcdef", "abcdef.0123", "abcdef:0123456789abcdef"])
def test_a_malformed_token_is_refused_before_any_request(token: str) -> None:
    with pytest.raises(JoinError, match="token: expected"):
        parse_token(token)


def _csr(node: str, *, user: str, approved: bool = True, signer: str = KUBELET_CLIENT_SIGNER) -> dict[str, Any]:
    _, pem = node_csr(node)
    status: dict[str, Any] = {}
    if approved:
        status = {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "Y2VydA=="}
    return {
        "spec": {"request": base64.b64encode(pem).decode(), "signerName": signer, "username": user},
        "status": status,
    }


def _node(name: str, **annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "annotations": annotations, "labels": {"berth.io/pool": "claimed"}}}


def test_the_token_of_a_node_is_the_one_its_certificate_was_issued_to() -> None:
    csrs = [
        _csr("n1", user="system:bootstrap:aaaaaa"),
        _csr("n2", user="system:bootstrap:bbbbbb", approved=False),
        _csr("n3", user="system:node:n3"),  # a renewal by the node itself
        _csr("n4", user="system:bootstrap:cccccc", signer="kubernetes.io/kube-apiserver-client"),
        {"spec": {"request": "bm90IGEgY3Ny", "signerName": KUBELET_CLIENT_SIGNER, "username": "system:bootstrap:x"}},
    ]
    assert tokens_by_node(csrs) == {"n1": "aaaaaa"}


def test_only_unmarked_nodes_with_a_pool_token_are_adopted_into_the_tokens_pool() -> None:
    csrs = [
        _csr("n1", user="system:bootstrap:aaaaaa"),
        _csr("n2", user="system:bootstrap:bbbbbb"),
        _csr("n3", user="system:bootstrap:aaaaaa"),
        _csr("n4", user="system:bootstrap:dddddd"),
    ]
    nodes = [_node("n1"), _node("n2"), _node("n3", **{"berth.io/source": "joined"}), _node("n4"), _node("n5")]
    plans = plan_adoptions(nodes, csrs, {"aaaaaa": "web", "bbbbbb": "gpu"})
    # n1 and n2 go to their tokens' pools, not the pool their label claims; n3 is adopted already;
    # n4's token was not issued for a pool; n5 never filed a bootstrap CSR
    assert plans == [Adoption("n1", "web", "aaaaaa"), Adoption("n2", "gpu", "bbbbbb")]


def _pool(**kw: Any) -> NodePool:
    return NodePool(name="edge", cluster="c1", tenant="t1", flavour=Flavour(cpu=8, memory_gib=32), **kw)


def test_the_join_command_registers_with_the_pools_flavour_and_taints() -> None:
    pool = _pool(role="ingress", taints=[Taint(key="dedicated", value="edge", effect="NoExecute")], max_pods=64)
    cmd = join_command(
        server="https://10.0.0.1:6443", token="abcdef.0123456789abcdef", ca_cert_hash="sha256:aa", pool=pool
    )
    argv = shlex.split(cmd)
    assert argv[:3] == ["berth", "node", "join"]
    pairs = list(zip(argv[3::2], argv[4::2], strict=True))
    assert ("--server", "https://10.0.0.1:6443") in pairs and ("--token", "abcdef.0123456789abcdef") in pairs
    assert ("--cpu", "8") in pairs and ("--memory-gib", "32") in pairs and ("--max-pods", "64") in pairs
    assert ("--label", "berth.io/pool=edge") in pairs
    taints = [v for k, v in pairs if k == "--taint"]
    assert taints == ["node-role.kubernetes.io/ingress:NoSchedule", "dedicated=edge:NoExecute"]


def test_the_bootstrap_kubeconfig_is_what_a_kubelet_expects() -> None:
    cfg = bootstrap_kubeconfig(server="https://s:6443", token="abcdef.0123456789abcdef", ca_pem=b"PEM")
    assert cfg["users"][0]["user"] == {"token": "abcdef.0123456789abcdef"}
    assert base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]) == b"PEM"
    assert cfg["contexts"][0]["context"]["user"] == "kubelet-bootstrap"


def test_the_agent_renews_its_certificate_at_80_percent_of_its_life(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from berth_node_manager.agent.node import NodeAgent, NodeIdentity, NodeSpec
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "system:node:n1")])
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=100))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    identity = NodeIdentity(name="n1", server="https://127.0.0.1:6443", ca_pem=pem, cert_pem=pem, key_pem=key_pem)
    identity.save(tmp_path)
    assert (tmp_path / "pki" / "kubelet-client.key").stat().st_mode & 0o777 == 0o600
    agent = NodeAgent(identity, tmp_path, NodeSpec())
    assert not agent.rotation_due(now=start + timedelta(days=79))
    assert agent.rotation_due(now=start + timedelta(days=80))
