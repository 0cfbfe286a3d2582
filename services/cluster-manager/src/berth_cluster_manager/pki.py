"""A tenant cluster's PKI: CAs, leaf certificates, the service-account key pair and
kubeconfigs; renewal of expiring leaves and two-phase CA rotation.

Keys are ECDSA P-256 (fast to generate; every control-plane component accepts them).
The whole PKI serialises to a dict of PEM strings so a provider can keep it in a Secret
or in the local data dir. It is never logged: ``ClusterPki.__repr__`` hides the keys.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from berth_schema.cluster.network import parse_cidr, service_ip
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import BaseModel, Field

CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=365)
RENEW_BEFORE = timedelta(days=30)
CLUSTER_DOMAIN = "cluster.local"

CA_NAMES = ("ca", "front-proxy-ca", "etcd-ca")


class Pair(BaseModel):
    cert: str
    key: str

    def __repr__(self) -> str:
        return f"Pair(cert={self.certificate().subject.rfc4514_string()!r}, key=<hidden>)"

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert.encode())

    def private_key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_pem_private_key(self.key.encode(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key


class PkiParams(BaseModel):
    cluster: str
    service_cidr: str
    api_hosts: list[str] = Field(default_factory=list)  # DNS names and IPs the API server is reached at
    etcd_hosts: list[str] = Field(default_factory=list)
    leaf_validity_days: int = LEAF_VALIDITY.days


@dataclass(frozen=True, slots=True)
class LeafSpec:
    name: str
    issuer: str
    common_name: str
    organizations: tuple[str, ...] = ()
    server: bool = False
    client: bool = False
    hosts: tuple[str, ...] = ()


def leaf_specs(params: PkiParams) -> list[LeafSpec]:
    svc_ip = str(service_ip(parse_cidr(params.service_cidr)))
    api_hosts = (
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{CLUSTER_DOMAIN}",
        "localhost",
        "127.0.0.1",
        svc_ip,
        *params.api_hosts,
    )
    etcd_hosts = ("localhost", "127.0.0.1", *params.etcd_hosts)
    return [
        LeafSpec("apiserver", "ca", "kube-apiserver", server=True, hosts=_unique(api_hosts)),
        LeafSpec("apiserver-kubelet-client", "ca", "kube-apiserver-kubelet-client", ("system:masters",), client=True),
        LeafSpec("apiserver-etcd-client", "etcd-ca", "kube-apiserver-etcd-client", client=True),
        LeafSpec("front-proxy-client", "front-proxy-ca", "front-proxy-client", client=True),
        LeafSpec(
            "etcd-server", "etcd-ca", f"{params.cluster}-etcd", server=True, client=True, hosts=_unique(etcd_hosts)
        ),
        LeafSpec(
            "etcd-peer", "etcd-ca", f"{params.cluster}-etcd-peer", server=True, client=True, hosts=_unique(etcd_hosts)
        ),
        LeafSpec("etcd-healthcheck-client", "etcd-ca", "kube-etcd-healthcheck-client", client=True),
        LeafSpec("admin", "ca", "kubernetes-admin", ("system:masters",), client=True),
        LeafSpec("controller-manager", "ca", "system:kube-controller-manager", client=True),
        LeafSpec("scheduler", "ca", "system:kube-scheduler", client=True),
    ]


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def new_ca(common_name: str, *, now: datetime) -> Pair:
    key = _new_key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Pair(cert=_cert_pem(cert), key=_key_pem(key))


def issue_leaf(spec: LeafSpec, ca: Pair, *, now: datetime, validity: timedelta = LEAF_VALIDITY) -> Pair:
    key = _new_key()
    ca_cert, ca_key = ca.certificate(), ca.private_key()
    usages = []
    if spec.server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if spec.client:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(spec.common_name, spec.organizations))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(min(now + validity, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if spec.hosts:
        sans: list[x509.GeneralName] = []
        for host in spec.hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return Pair(cert=_cert_pem(builder.sign(ca_key, hashes.SHA256())), key=_key_pem(key))


class ClusterPki(BaseModel):
    """Every certificate and key of one tenant cluster."""

    params: PkiParams
    cas: dict[str, Pair]
    retiring: dict[str, list[str]] = Field(default_factory=dict)  # old CA certs still trusted mid-rotation
    leaves: dict[str, Pair]
    sa_key: str
    sa_pub: str

    def __repr__(self) -> str:
        return f"ClusterPki(cluster={self.params.cluster!r}, leaves={sorted(self.leaves)}, keys=<hidden>)"

    __str__ = __repr__

    # --- creation -------------------------------------------------------------
    @classmethod
    def issue(cls, params: PkiParams, *, now: datetime) -> ClusterPki:
        cas = {
            "ca": new_ca(f"{params.cluster}-ca", now=now),
            "front-proxy-ca": new_ca(f"{params.cluster}-front-proxy-ca", now=now),
            "etcd-ca": new_ca(f"{params.cluster}-etcd-ca", now=now),
        }
        validity = timedelta(days=params.leaf_validity_days)
        leaves = {s.name: issue_leaf(s, cas[s.issuer], now=now, validity=validity) for s in leaf_specs(params)}
        sa = _new_key()
        sa_pub = (
            sa.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        return cls(params=params, cas=cas, leaves=leaves, sa_key=_key_pem(sa), sa_pub=sa_pub)

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ClusterPki:
        return cls.model_validate(doc)

    # --- trust ----------------------------------------------------------------
    def bundle(self, ca: str = "ca") -> str:
        """The trust bundle of a CA: the current certificate plus any still being retired."""
        return self.cas[ca].cert + "".join(self.retiring.get(ca, []))

    def expiring(self, *, now: datetime, within: timedelta = RENEW_BEFORE) -> list[str]:
        return sorted(
            name for name, pair in self.leaves.items() if pair.certificate().not_valid_after_utc - now <= within
        )

    # --- changes (each returns the names of the leaves it re-issued) ----------
    def renew_expiring(self, *, now: datetime, within: timedelta = RENEW_BEFORE) -> list[str]:
        names = self.expiring(now=now, within=within)
        self._reissue(names, now=now)
        return names

    def start_ca_rotation(self, *, now: datetime) -> list[str]:
        """Phase 1: new CAs join the trust bundles beside the old ones; every leaf is
        re-issued by the new CAs. Components trust both until the rotation completes."""
        if any(self.retiring.values()):
            raise ValueError(f"cluster {self.params.cluster}: a CA rotation is already in progress")
        for ca in CA_NAMES:
            self.retiring[ca] = [self.cas[ca].cert]
            self.cas[ca] = new_ca(f"{self.params.cluster}-{ca}-{now:%Y%m%d%H%M%S}", now=now)
        names = sorted(self.leaves)
        self._reissue(names, now=now)
        return names

    def complete_ca_rotation(self) -> None:
        """Phase 2: the old CAs leave the trust bundles."""
        if not any(self.retiring.values()):
            raise ValueError(f"cluster {self.params.cluster}: no CA rotation is in progress")
        self.retiring = {}

    def _reissue(self, names: list[str], *, now: datetime) -> None:
        specs = {s.name: s for s in leaf_specs(self.params)}
        validity = timedelta(days=self.params.leaf_validity_days)
        for name in names:
            spec = specs[name]
            self.leaves[name] = issue_leaf(spec, self.cas[spec.issuer], now=now, validity=validity)

    # --- outputs --------------------------------------------------------------
    def kubeconfig(self, *, server: str, user: str = "admin", context: str | None = None) -> dict[str, Any]:
        """A kubeconfig for ``server`` authenticating with the ``user`` leaf (admin, controller-manager...)."""
        cluster = self.params.cluster
        leaf = self.leaves[user]
        ctx = context or f"{user}@{cluster}"
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster, "cluster": {"server": server, "certificate-authority-data": _b64(self.bundle())}}
            ],
            "users": [
                {
                    "name": f"{cluster}-{user}",
                    "user": {"client-certificate-data": _b64(leaf.cert), "client-key-data": _b64(leaf.key)},
                }
            ],
            "contexts": [{"name": ctx, "context": {"cluster": cluster, "user": f"{cluster}-{user}"}}],
            "current-context": ctx,
        }

    def files(self) -> dict[str, str]:
        """File name -> PEM content, the layout the control-plane flags point at."""
        out: dict[str, str] = {}
        for ca in CA_NAMES:
            out[f"{ca}.crt"] = self.bundle(ca)
            out[f"{ca}-signing.crt"] = self.cas[ca].cert
            out[f"{ca}.key"] = self.cas[ca].key
        for name, pair in self.leaves.items():
            out[f"{name}.crt"] = pair.cert
            out[f"{name}.key"] = pair.key
        out["sa.key"] = self.sa_key
        out["sa.pub"] = self.sa_pub
        return out

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, content in self.files().items():
            path = directory / name
            path.write_text(content)
            path.chmod(0o600)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
