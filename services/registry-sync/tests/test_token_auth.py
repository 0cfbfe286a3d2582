"""Bearer token auth against a real registry in token mode (distribution's ``auth.token``).

The token service is a small issuer in the test (the part Harbor core or docker_auth plays): it checks
Basic credentials and signs RS256 JWTs with an x5c chain that the registry verifies against its root bundle.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from berth_registry_sync.oci import AuthenticationFailed, Copier, Endpoint, RegistryClient
from berth_testkit.registry import Registry
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from .conftest import Images, Traffic, endpoint

SERVICE, ISSUER = "berth-registry", "berth-test-issuer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, work: Path, *, username: str, password: str) -> None:
        self.username, self.password = username, password
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.bundle = work / "token-root.pem"
        work.mkdir(parents=True, exist_ok=True)
        self.bundle.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.scopes: Counter[str] = Counter()
        self.runner: web.AppRunner | None = None
        self.realm = ""

    def token(self, scopes: list[str]) -> str:
        access = []
        for s in scopes:
            kind, name, actions = s.split(":", 2) if s.count(":") >= 2 else (s, "", "")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        header = {
            "alg": "RS256",
            "typ": "JWT",
            "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()],
        }
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": self.username,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
        sig = self.key.sign(signing, padding.PKCS1v15(), hashes.SHA256())
        return f"{signing.decode()}.{_b64(sig)}"

    async def handle(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if auth != expected:
            return web.json_response({"details": "bad credentials"}, status=401)
        scopes = request.query.getall("scope", [])
        for s in scopes:
            self.scopes[s] += 1
        return web.json_response({"token": self.token(scopes), "expires_in": 300})

    async def start(self) -> TokenIssuer:
        app = web.Application()
        app.router.add_get("/token", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.realm = f"http://127.0.0.1:{port}/token"
        return self

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@dataclass
class TokenRegistry(Registry):
    realm: str = ""
    bundle: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg["auth"] = {
            "token": {"realm": self.realm, "service": SERVICE, "issuer": ISSUER, "rootcertbundle": self.bundle}
        }
        return cfg


@pytest.fixture
async def token_registry(tmp_path: Path) -> AsyncIterator[tuple[TokenRegistry, TokenIssuer]]:
    issuer = await TokenIssuer(tmp_path / "issuer", username="robot", password=secrets.token_urlsafe(12)).start()
    reg = TokenRegistry(
        tmp_path / "token-registry",
        username="robot",
        password=issuer.password,
        realm=issuer.realm,
        bundle=str(issuer.bundle),
    ).start()
    yield reg, issuer
    reg.stop()
    await issuer.stop()


async def test_bearer_tokens_are_fetched_per_scope_and_cached(
    token_registry: tuple[TokenRegistry, TokenIssuer], registry_a: Registry, images_a: Images
) -> None:
    reg, issuer = token_registry
    index, _ = await images_a.index("apps/web", "1.0")
    traffic = Traffic()
    async with (
        RegistryClient(endpoint(registry_a)) as a,
        RegistryClient(
            Endpoint(url=reg.url, username="robot", password=issuer.password), trace_configs=[traffic.config()]
        ) as b,
    ):
        result = await Copier(a, b).copy_tag("apps/web", "1.0")
        assert (result.status, result.error) == ("copied", None)
        assert (await b.get_manifest("apps/web", "1.0")).raw == index.raw
        assert b.auth.mode == "bearer"
    # one token per scope, reused for every request in that scope
    assert issuer.scopes["repository:apps/web:pull,push"] == 1, issuer.scopes
    assert traffic.methods["GET"] >= 1 and sum(traffic.methods.values()) > 10


async def test_bearer_wrong_password_is_a_clear_error(token_registry: tuple[TokenRegistry, TokenIssuer]) -> None:
    reg, _ = token_registry
    async with RegistryClient(Endpoint(url=reg.url, username="robot", password="nope")) as b:
        with pytest.raises(AuthenticationFailed, match=f"authentication failed for {reg.host} as robot"):
            await b.head_manifest("apps/web", "1.0")
