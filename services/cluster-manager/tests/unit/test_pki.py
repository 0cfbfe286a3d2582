from __future__ import annotations

import base64
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from berth_cluster_manager.pki import ClusterPki, PkiParams
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def pki() -> ClusterPki:
    params = PkiParams(
        cluster="c1",
        service_cidr="10.247.0.0/16",
        api_hosts=["c1-apiserver.berth-t1-c1.svc", "203.0.113.7"],
        etcd_hosts=["c1-etcd-0.c1-etcd.berth-t1-c1.svc"],
    )
    return ClusterPki.issue(params, now=NOW)


def _sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), {str(i) for i in ext.get_values_for_type(x509.IPAddress)}


def test_leaves_verify_against_their_ca(pki: ClusterPki) -> None:
    issuers = {
        "apiserver": "ca",
        "admin": "ca",
        "controller-manager": "ca",
        "scheduler": "ca",
        "apiserver-kubelet-client": "ca",
        "front-proxy-client": "front-proxy-ca",
        "etcd-server": "etcd-ca",
        "etcd-peer": "etcd-ca",
        "etcd-healthcheck-client": "etcd-ca",
        "apiserver-etcd-client": "etcd-ca",
    }
    assert set(pki.leaves) == set(issuers)
    for leaf, ca in issuers.items():
        cert = pki.leaves[leaf].certificate()
        cert.verify_directly_issued_by(pki.cas[ca].certificate())
        other = "etcd-ca" if ca != "etcd-ca" else "ca"
        with pytest.raises((ValueError, InvalidSignature)):
            cert.verify_directly_issued_by(pki.cas[other].certificate())


def test_apiserver_sans(pki: ClusterPki) -> None:
    cert = pki.leaves["apiserver"].certificate()
    dns, ips = _sans(cert)
    assert {
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        "c1-apiserver.berth-t1-c1.svc",
        "localhost",
    } <= dns
    assert {"10.247.0.1", "203.0.113.7", "127.0.0.1"} <= ips
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    etcd_dns, _ = _sans(pki.leaves["etcd-peer"].certificate())
    assert "c1-etcd-0.c1-etcd.berth-t1-c1.svc" in etcd_dns


def test_admin_is_system_masters_and_kubeconfig_embeds_it(pki: ClusterPki) -> None:
    admin = pki.leaves["admin"].certificate()
    assert [a.value for a in admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["system:masters"]
    kc = pki.kubeconfig(server="https://127.0.0.1:6443")
    user = kc["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]).decode() == pki.leaves["admin"].cert
    assert base64.b64decode(kc["clusters"][0]["cluster"]["certificate-authority-data"]).decode() == pki.bundle()
    assert "PRIVATE KEY" not in repr(pki) and "PRIVATE KEY" not in repr(pki.leaves["admin"])


def test_service_account_pair_and_files(pki: ClusterPki) -> None:
    files = pki.files()
    assert files["sa.pub"].startswith("-----BEGIN PUBLIC KEY")
    assert {"ca.crt", "ca.key", "apiserver.crt", "etcd-ca.crt", "front-proxy-ca.crt"} <= set(files)
    assert ClusterPki.from_doc(pki.to_doc()).leaves["admin"].cert == pki.leaves["admin"].cert


def test_renewal_reissues_only_leaves_near_expiry() -> None:
    pki = ClusterPki.issue(PkiParams(cluster="c2", service_cidr="10.96.0.0/12"), now=NOW)
    assert pki.renew_expiring(now=NOW + timedelta(days=100)) == []
    old_serial = pki.leaves["apiserver"].certificate().serial_number
    later = NOW + timedelta(days=340)
    renewed = pki.renew_expiring(now=later)
    assert renewed == sorted(pki.leaves)
    cert = pki.leaves["apiserver"].certificate()
    assert cert.serial_number != old_serial
    assert cert.not_valid_after_utc > later + timedelta(days=300)
    cert.verify_directly_issued_by(pki.cas["ca"].certificate())
    _, ips = _sans(cert)
    assert str(ipaddress.ip_address("10.96.0.1")) in ips


def test_ca_rotation_two_phases() -> None:
    pki = ClusterPki.issue(PkiParams(cluster="c3", service_cidr="10.96.0.0/12"), now=NOW)
    old_ca = pki.cas["ca"].certificate()
    old_admin = pki.leaves["admin"].certificate()
    pki.start_ca_rotation(now=NOW + timedelta(days=1))
    new_ca = pki.cas["ca"].certificate()
    assert new_ca.serial_number != old_ca.serial_number
    bundle = x509.load_pem_x509_certificates(pki.bundle().encode())
    assert {c.serial_number for c in bundle} == {old_ca.serial_number, new_ca.serial_number}
    for name in pki.leaves:
        pki.leaves[name].certificate().verify_directly_issued_by(
            pki.cas[{"etcd": "etcd-ca", "front": "front-proxy-ca"}.get(name.split("-")[0], "ca")].certificate()
            if name not in ("apiserver-etcd-client",)
            else pki.cas["etcd-ca"].certificate()
        )
    old_admin.verify_directly_issued_by(bundle[1])  # old clients still trusted mid-rotation
    with pytest.raises(ValueError, match="already in progress"):
        pki.start_ca_rotation(now=NOW)
    pki.complete_ca_rotation()
    bundle = x509.load_pem_x509_certificates(pki.bundle().encode())
    assert [c.serial_number for c in bundle] == [new_ca.serial_number]
    with pytest.raises(ValueError, match="no CA rotation"):
        pki.complete_ca_rotation()
