"""The CA pin a joining node checks (kubeadm's ``--discovery-token-ca-cert-hash``)."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization


def ca_cert_hash(ca_pem: bytes) -> str:
    """``sha256:<hex>`` of the CA certificate's DER SubjectPublicKeyInfo."""
    cert = x509.load_pem_x509_certificate(ca_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()
