"""kubelet TLS bootstrap: a new key, a CSR for ``system:node:<name>`` in ``system:nodes`` filed
with the bootstrap token, approved and signed by the cluster's controller-manager."""

from __future__ import annotations

import asyncio
import base64
import secrets
import ssl
import time
from typing import Any

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .discovery import ClusterInfo, JoinError

SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests"


def node_csr(node_name: str) -> tuple[bytes, bytes]:
    """(private key PEM, CSR PEM): ECDSA P-256, as kubelet makes them."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node_name}"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, csr.public_bytes(serialization.Encoding.PEM)


def _reason(status: dict[str, Any]) -> str | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") in ("Denied", "Failed") and cond.get("status", "True") == "True":
            return f"{cond['type']}: {cond.get('message') or cond.get('reason') or 'no reason given'}"
    return None


async def bootstrap_client_certificate(
    info: ClusterInfo, token: str, node_name: str, *, wait_seconds: float = 120.0, interval: float = 0.5
) -> tuple[bytes, bytes]:
    """(key PEM, certificate PEM) of the node's first client identity, filed with the join token."""
    tls = ssl.create_default_context(cadata=info.ca_pem.decode())
    return await _request(
        info.server, tls, {"Authorization": f"Bearer {token}"}, node_name, wait_seconds=wait_seconds, interval=interval
    )


async def renew_client_certificate(
    server: str, tls: ssl.SSLContext, node_name: str, *, wait_seconds: float = 120.0, interval: float = 0.5
) -> tuple[bytes, bytes]:
    """A fresh key and certificate, filed with the node's current certificate (``tls`` carries it):
    the controller-manager approves a node renewing its own identity (selfnodeclient)."""
    return await _request(server, tls, {}, node_name, wait_seconds=wait_seconds, interval=interval)


async def _request(
    server: str,
    tls: ssl.SSLContext,
    auth: dict[str, str],
    node_name: str,
    *,
    wait_seconds: float,
    interval: float,
) -> tuple[bytes, bytes]:
    key_pem, csr_pem = node_csr(node_name)
    headers = {**auth, "Accept": "application/json"}
    name = f"node-csr-{secrets.token_hex(8)}"
    body = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {
            "request": base64.b64encode(csr_pem).decode(),
            "signerName": SIGNER,
            "usages": ["digital signature", "client auth"],
        },
    }
    base = server.rstrip("/") + CSR_PATH
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=15)) as session:
        async with session.post(base, json=body, ssl=tls) as resp:
            if resp.status == 401:
                raise JoinError("the API server does not accept these credentials (token unknown, expired or revoked)")
            if resp.status == 403:
                raise JoinError(f"these credentials may not file node certificate requests: {await resp.text()}")
            if resp.status not in (200, 201):
                raise JoinError(f"filing the certificate request failed ({resp.status}): {await resp.text()}")
        deadline = time.monotonic() + wait_seconds
        while True:
            async with session.get(f"{base}/{name}", ssl=tls) as resp:
                if resp.status != 200:
                    raise JoinError(f"reading certificate request {name} failed ({resp.status}): {await resp.text()}")
                status = (await resp.json()).get("status") or {}
            if cert := status.get("certificate"):
                return key_pem, base64.b64decode(cert)
            if reason := _reason(status):
                raise JoinError(f"certificate request {name} was {reason}")
            if time.monotonic() > deadline:
                raise JoinError(
                    f"certificate request {name} was not signed within {wait_seconds:g}s "
                    "(is the controller-manager running with --cluster-signing-* flags?)"
                )
            await asyncio.sleep(interval)
