"""TLS options of a registry: a private CA bundle, skip-verify, and the error without either."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from berth_registry_sync.oci import Copier, Endpoint, RegistryClient, RegistryError
from berth_testkit.parts import binary
from berth_testkit.pki import CertAuthority
from berth_testkit.probes import http_ok
from berth_testkit.procs import Proc
from berth_testkit.registry import Registry

from .conftest import Images


@dataclass
class TlsRegistry(Registry):
    ca: CertAuthority | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        assert self.ca is not None
        cfg = super().config()
        crt, key = self.ca.issue("registry", ip_addresses=("127.0.0.1",), server=True).write(self.work_dir, "tls")
        cfg["http"]["tls"] = {"certificate": str(crt), "key": str(key)}
        return cfg

    def start(self) -> TlsRegistry:
        assert self.ca is not None
        began = time.monotonic()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "config.yml"
        config.write_text(yaml.safe_dump(self.config()))
        self.proc = Proc(
            "docker-registry", [binary("docker-registry"), "serve", str(config)], log_dir=self.work_dir
        ).start()
        ctx = ssl.create_default_context(cadata=self.ca.cert_pem.decode())
        self.proc.wait_ready(
            lambda: http_ok(f"{self.url}/v2/", context=ctx, expect=(401,)), timeout=30, what="(/v2/ over TLS)"
        )
        self.startup_seconds = time.monotonic() - began
        return self


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[TlsRegistry]:
    reg = TlsRegistry(tmp_path / "tls-registry", ca=CertAuthority("berth-registry-ca")).start()
    yield reg
    reg.stop()


async def test_private_ca_bundle_and_insecure_skip_verify(
    tls_registry: TlsRegistry, registry_a: Registry, images_a: Images
) -> None:
    assert tls_registry.ca is not None
    image = await images_a.image("apps/web", "1.0")
    base = {"url": tls_registry.url, "username": tls_registry.username, "password": tls_registry.password}
    async with RegistryClient(Endpoint(**base)) as untrusted:
        with pytest.raises(RegistryError, match=r"TLS verification failed.*ca_bundle"):
            await untrusted.ping()
    src = Endpoint(url=registry_a.url, username=registry_a.username, password=registry_a.password)
    async with (
        RegistryClient(src) as a,
        RegistryClient(Endpoint(**base, ca_bundle=tls_registry.ca.cert_pem.decode())) as b,
    ):
        assert (await Copier(a, b).copy_tag("apps/web", "1.0")).status == "copied"
    async with RegistryClient(Endpoint(**base, insecure=True)) as b:
        assert (await b.get_manifest("apps/web", "1.0")).raw == image.raw
