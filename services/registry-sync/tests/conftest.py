"""Test helpers: build images in a real registry through the API, count requests, cut connections."""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from berth_registry_sync.oci import Descriptor, Endpoint, Manifest, RegistryClient
from berth_registry_sync.oci.media import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, referrers_tag
from berth_testkit.registry import Registry

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"


def endpoint(reg: Registry, *, password: str | None = None, url: str | None = None) -> Endpoint:
    return Endpoint(url=url or reg.url, username=reg.username, password=password or reg.password)


@dataclass
class Images:
    """Pushes synthetic images (random layers) to a registry through the API."""

    client: RegistryClient

    async def blob(self, repo: str, size: int, *, media_type: str = LAYER) -> Descriptor:
        d = await self.client.push_blob(repo, os.urandom(size))
        return Descriptor(media_type=media_type, digest=d.digest, size=d.size)

    async def put(self, repo: str, ref: str, doc: dict[str, Any], media_type: str) -> Manifest:
        raw = json.dumps(doc, indent=3).encode()  # unusual formatting: a re-serialising copier would show
        m = Manifest.parse(raw, content_type=media_type)
        await self.client.put_manifest(repo, ref, m)
        return m

    async def image(
        self,
        repo: str,
        tag: str | None,
        *,
        layers: tuple[int, ...] = (2048, 4096),
        platform: tuple[str, str] = ("linux", "amd64"),
        docker: bool = False,
        shared: tuple[Descriptor, ...] = (),
    ) -> Manifest:
        cfg = json.dumps(
            {"architecture": platform[1], "os": platform[0], "rootfs": {"type": "layers"}, "nonce": os.urandom(8).hex()}
        ).encode()
        cfg_desc = await self.client.push_blob(repo, cfg)
        lays = [*shared, *[await self.blob(repo, n) for n in layers]]
        media = DOCKER_MANIFEST if docker else OCI_MANIFEST
        doc = {
            "schemaVersion": 2,
            "mediaType": media,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json" if docker else CONFIG,
                "digest": cfg_desc.digest,
                "size": cfg_desc.size,
            },
            "layers": [{"mediaType": x.media_type, "digest": x.digest, "size": x.size} for x in lays],
        }
        m = Manifest.parse(json.dumps(doc, indent=3).encode(), content_type=media)
        await self.client.put_manifest(repo, tag or m.digest, m)
        return m

    async def index(
        self,
        repo: str,
        tag: str,
        *,
        platforms: tuple[tuple[str, str], ...] = (("linux", "amd64"), ("linux", "arm64")),
        docker: bool = False,
        layers: tuple[int, ...] = (2048,),
    ) -> tuple[Manifest, list[Manifest]]:
        children = [await self.image(repo, None, platform=p, docker=docker, layers=layers) for p in platforms]
        media = DOCKER_LIST if docker else OCI_INDEX
        doc = {
            "schemaVersion": 2,
            "mediaType": media,
            "manifests": [
                {
                    "mediaType": c.media_type,
                    "digest": c.digest,
                    "size": len(c.raw),
                    "platform": {"os": p[0], "architecture": p[1]},
                }
                for c, p in zip(children, platforms, strict=True)
            ],
        }
        return await self.put(repo, tag, doc, media), children

    async def signature(self, repo: str, subject: Manifest) -> Manifest:
        """An OCI 1.1 artifact referring to ``subject``, listed under the fallback tag (the registry
        has no referrers API)."""
        empty = await self.client.push_blob(repo, b"{}")
        payload = await self.blob(repo, 300, media_type="application/vnd.dev.cosign.simplesigning.v1+json")
        doc = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.digest, "size": 2},
            "layers": [payload.to_json()],
            "subject": subject.descriptor().to_json(),
        }
        raw = json.dumps(doc, indent=3).encode()
        sig = Manifest.parse(raw, content_type=OCI_MANIFEST)
        await self.client.put_manifest(repo, sig.digest, sig)
        listed: list[Any] = []  # what a signing tool does: append to the listing under the fallback tag
        if await self.client.head_manifest(repo, referrers_tag(subject.digest)) is not None:
            listed = json.loads((await self.client.get_manifest(repo, referrers_tag(subject.digest))).raw)["manifests"]
        entry = {**sig.descriptor().to_json(), "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"}
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [*listed, entry]}
        await self.put(repo, referrers_tag(subject.digest), index, OCI_INDEX)
        return sig


@pytest.fixture
async def images_a(registry_a: Registry) -> AsyncIterator[Images]:
    async with RegistryClient(endpoint(registry_a)) as c:
        yield Images(c)


@dataclass
class Traffic:
    """Requests seen, by method and by (method, path kind)."""

    methods: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)

    def config(self) -> aiohttp.TraceConfig:
        tc = aiohttp.TraceConfig()

        async def on_start(_s: Any, _c: Any, p: aiohttp.TraceRequestStartParams) -> None:
            self.methods[p.method] += 1
            self.lines.append(f"{p.method} {p.url.path}")

        tc.on_request_start.append(on_start)
        return tc


class CuttingProxy:
    """A reverse proxy that drops the connection after ``cut_after`` bytes of the first ``cuts`` PATCH bodies."""

    def __init__(
        self, upstream: str, *, cut_after: int = 0, cuts: int = 0, corrupt_blobs: bool = False, fail_first: int = 0
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.corrupt_blobs = corrupt_blobs  # flip one byte of every blob GET body
        self.fail_first = fail_first  # answer 503 to the first N requests
        self.failed = 0
        self.cut_after, self.cuts_left = cut_after, cuts
        self.cut_count = 0
        self.patches = 0
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> CuttingProxy:
        app = web.Application(client_max_size=1 << 34)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self.session = aiohttp.ClientSession(auto_decompress=False)
        return self

    async def stop(self) -> None:
        if self.session:
            await self.session.close()
        if self.runner:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None
        if self.failed < self.fail_first:
            self.failed += 1
            return web.Response(status=503, text="try later")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "transfer-encoding")}
        cut = request.method == "PATCH" and self.cuts_left > 0
        if request.method == "PATCH":
            self.patches += 1
        if cut:
            self.cuts_left -= 1

            async def body() -> AsyncIterator[bytes]:
                sent = 0
                async for piece in request.content.iter_any():
                    if sent + len(piece) >= self.cut_after:
                        yield piece[: self.cut_after - sent]
                        self.cut_count += 1
                        await asyncio.sleep(0.2)  # let the registry write what it got
                        assert request.transport is not None
                        request.transport.close()
                        raise ConnectionResetError("cut by test proxy")
                    sent += len(piece)
                    yield piece

            headers.pop("Content-Length", None)
            data: Any = body()
        else:
            data = request.content.iter_any() if request.can_read_body else None
        url = self.upstream + request.rel_url.raw_path_qs
        try:
            async with self.session.request(
                request.method, url, headers=headers, data=data, allow_redirects=False
            ) as up:
                resp = web.StreamResponse(status=up.status)
                for k, v in up.headers.items():
                    if k.lower() in ("transfer-encoding", "content-length", "connection"):
                        continue
                    if k.lower() == "location" and v.startswith(self.upstream):
                        v = self.url + v[len(self.upstream) :]
                    resp.headers.add(k, v)
                if up.headers.get("Content-Length") is not None:
                    resp.content_length = int(up.headers["Content-Length"])
                await resp.prepare(request)
                flip = self.corrupt_blobs and request.method == "GET" and "/blobs/sha256:" in request.path
                if request.method != "HEAD":
                    async for piece in up.content.iter_any():
                        if flip and piece:
                            piece, flip = bytes([piece[0] ^ 0xFF]) + piece[1:], False
                        await resp.write(piece)
                await resp.write_eof()
                return resp
        except (ConnectionResetError, aiohttp.ClientError):
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPBadGateway() from None


@pytest.fixture
def proxy_factory() -> Callable[..., Any]:
    return CuttingProxy
