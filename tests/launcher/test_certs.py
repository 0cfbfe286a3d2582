"""`berth up`'s TLS files: a CA and a server certificate for 127.0.0.1/localhost, private keys
0600, kept across restarts, and the certificate issued again when it no longer covers the host."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509

from berth.certs import gateway_tls
from berth.launcher import UpOptions


def _names(cert_file: Path) -> list[object]:
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [*sans.get_values_for_type(x509.DNSName), *sans.get_values_for_type(x509.IPAddress)]


def test_files_are_made_private_and_kept(tmp_path: Path) -> None:
    tls = gateway_tls(tmp_path, "127.0.0.1")
    for f in ("gateway-key.pem", "gateway-ca-key.pem", "gateway-cert.pem", "gateway-ca.pem"):
        assert (tmp_path / f).stat().st_mode & 0o777 == 0o600, f
    assert {"localhost", ipaddress.ip_address("127.0.0.1")} <= set(_names(tls.cert_file))
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    assert gateway_tls(tmp_path, "127.0.0.1") == tls
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_another_host_gets_a_new_certificate_from_the_same_ca(tmp_path: Path) -> None:
    tls = gateway_tls(tmp_path, "127.0.0.1")
    ca, cert = tls.ca_file.read_bytes(), tls.cert_file.read_bytes()
    gateway_tls(tmp_path, "10.1.2.3")
    assert tls.ca_file.read_bytes() == ca and tls.cert_file.read_bytes() != cert
    assert ipaddress.ip_address("10.1.2.3") in _names(tls.cert_file)


def test_the_url_says_https_unless_plain_http_is_asked_for(tmp_path: Path) -> None:
    assert UpOptions(data_dir=tmp_path, gateway_port=8443).gateway_url == "https://127.0.0.1:8443"
    assert UpOptions(data_dir=tmp_path, insecure_http=True).gateway_url == "http://127.0.0.1:8080"
