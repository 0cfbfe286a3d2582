"""The gateway serves HTTPS with the certificate it is given, and without TLS settings it refuses to
start unless plain HTTP is asked for explicitly."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from berth_common.runtime import ServiceSettings
from berth_gateway import app as gateway_app
from berth_gateway.app import bootstrap
from berth_gateway.http import TlsSettingsError, server_ssl_context
from berth_gateway.settings import GatewaySettings
from berth_testkit.nats import NatsServer
from berth_testkit.procs import free_port

from berth.certs import GatewayTls, gateway_tls

TLS_VARS = ("BERTH_GATEWAY_TLS_CERT_FILE", "BERTH_GATEWAY_TLS_KEY_FILE", "BERTH_GATEWAY_INSECURE_HTTP")


@pytest.fixture
def tls(tmp_path: Path) -> GatewayTls:
    (tmp_path / "tls-data").mkdir()
    return gateway_tls(tmp_path / "tls-data", "127.0.0.1")


@pytest.fixture
async def https_gateway(tmp_path: Path, tls: GatewayTls) -> AsyncIterator[int]:
    nats = NatsServer(work_dir=tmp_path / "nats").start()
    port = free_port()
    app = bootstrap(GatewaySettings(port=port, tls_cert_file=tls.cert_file, tls_key_file=tls.key_file), routes=[])
    settings = ServiceSettings(nats_url=nats.url, store_url="memory://", data_dir=tmp_path / "gw", http_port=0)
    try:
        await app.start(settings)
        try:
            yield port
        finally:
            await app.stop()
    finally:
        nats.stop()


async def test_https_is_served_and_verified_with_the_ca(https_gateway: int, tls: GatewayTls) -> None:
    trusted = ssl.create_default_context(cafile=str(tls.ca_file))
    async with aiohttp.ClientSession() as http:
        async with http.get(f"https://127.0.0.1:{https_gateway}/healthz", ssl=trusted) as resp:
            assert resp.status == 200 and (await resp.json()) == {"status": "ok"}
        async with http.get(f"https://localhost:{https_gateway}/healthz", ssl=trusted) as resp:
            assert resp.status == 200  # the certificate names localhost too


async def test_a_client_without_the_ca_fails_verification(https_gateway: int) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with http.get(f"https://127.0.0.1:{https_gateway}/healthz", ssl=ssl.create_default_context()):
                pass


async def test_a_client_trusting_another_ca_fails_verification(https_gateway: int, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = gateway_tls(tmp_path / "other", "127.0.0.1")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with http.get(
                f"https://127.0.0.1:{https_gateway}/healthz", ssl=ssl.create_default_context(cafile=str(other.ca_file))
            ):
                pass


async def test_plain_http_to_the_tls_port_fails(https_gateway: int) -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.get(f"http://127.0.0.1:{https_gateway}/healthz") as resp:
                assert resp.status != 200  # never an answer from the API over plain HTTP


def test_tls_context_requires_tls_1_2(tls: GatewayTls) -> None:
    context = server_ssl_context(GatewaySettings(tls_cert_file=tls.cert_file, tls_key_file=tls.key_file))
    assert context is not None and context.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_without_tls_settings_the_gateway_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in TLS_VARS:
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(SystemExit) as exit_:
        gateway_app.main()
    message = str(exit_.value.code)
    assert "refuses to start" in message
    for var in TLS_VARS:
        assert var in message
    with pytest.raises(TlsSettingsError):
        server_ssl_context(GatewaySettings())


def test_plain_http_only_when_asked_for_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BERTH_GATEWAY_INSECURE_HTTP", "true")
    assert server_ssl_context(GatewaySettings()) is None


@pytest.mark.parametrize("given", ["cert", "key"])
def test_one_tls_file_alone_names_the_missing_one(tls: GatewayTls, given: str) -> None:
    if given == "cert":
        settings, missing = GatewaySettings(tls_cert_file=tls.cert_file), "BERTH_GATEWAY_TLS_KEY_FILE"
    else:
        settings, missing = GatewaySettings(tls_key_file=tls.key_file), "BERTH_GATEWAY_TLS_CERT_FILE"
    with pytest.raises(TlsSettingsError, match=f"{missing} is not"):
        server_ssl_context(settings)


def test_an_unreadable_certificate_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(TlsSettingsError, match="cannot load the gateway's TLS certificate"):
        server_ssl_context(GatewaySettings(tls_cert_file=missing, tls_key_file=missing))
