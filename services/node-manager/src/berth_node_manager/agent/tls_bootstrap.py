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
    """(key PEM, certificate PEM) of the node's client identity, or JoinError."""
    key_pem, csr_pem = node_csr(node_name)
    tls = ssl.create_default_context(cadata=info.ca_pem.decode())
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
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
    base = info.server.rstrip("/") + CSR_PATH
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=15)) as session:
        async with session.post(base, json=body, ssl=tls) as resp:
            if resp.status == 401:
                raise JoinError("the API server does not accept this token (unknown, expired or revoked)")
            if resp.status == 403:
                raise JoinError(f"this token may not file node certificate requests: {await resp.text()}")
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
