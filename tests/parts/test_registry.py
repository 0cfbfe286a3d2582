"""The OCI registries are real: a pushed image is pulled back by digest, auth is enforced."""

from __future__ import annotations

import hashlib

import aiohttp
from berth_testkit.oci import OCI_MANIFEST, push_image, sha256_digest
from berth_testkit.registry import Registry


async def test_image_pushed_is_pulled_back_by_digest(registry_a: Registry, registry_b: Registry) -> None:
    auth = registry_a.auth_headers
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{registry_a.url}/v2/") as resp:
            assert resp.status == 401, "the registry must demand credentials"

        pushed = await push_image(
            http, registry_a.url, "team/app", "v1", headers=auth, files={"app/version": b"1.0.0\n"}
        )
        assert pushed.digest == sha256_digest(pushed.manifest)

        async with http.get(
            f"{registry_a.url}/v2/team/app/manifests/{pushed.digest}", headers={**auth, "Accept": OCI_MANIFEST}
        ) as resp:
            assert resp.status == 200
            assert resp.headers["Docker-Content-Digest"] == pushed.digest
            assert await resp.read() == pushed.manifest
        for digest, content in pushed.blobs.items():
            async with http.get(f"{registry_a.url}/v2/team/app/blobs/{digest}", headers=auth) as resp:
                body = await resp.read()
                assert resp.status == 200
                assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
                assert body == content

        async with http.get(f"{registry_a.url}/v2/team/app/tags/list", headers=auth) as resp:
            assert (await resp.json())["tags"] == ["v1"]
        # the second registry is a separate store with its own credentials
        b_auth = registry_b.auth_headers
        async with http.get(
            f"{registry_b.url}/v2/team/app/manifests/{pushed.digest}", headers={**b_auth, "Accept": OCI_MANIFEST}
        ) as resp:
            assert resp.status == 404
        async with http.get(f"{registry_b.url}/v2/", headers=auth) as resp:
            assert resp.status == 401


async def test_registry_deletes_manifests_and_notifies(registry_factory: object) -> None:
    import asyncio

    from aiohttp import web

    events: list[dict[str, object]] = []
    got = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        envelope = await request.json()
        events.extend(envelope["events"])
        got.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hooks/registry", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert callable(registry_factory)
        reg: Registry = registry_factory(auth=False, notify=[f"http://127.0.0.1:{port}/hooks/registry"])
        async with aiohttp.ClientSession() as http:
            pushed = await push_image(http, reg.url, "ops/tool", "latest")
            await asyncio.wait_for(got.wait(), timeout=20)
            async with http.delete(f"{reg.url}/v2/ops/tool/manifests/{pushed.digest}") as resp:
                assert resp.status == 202
            async with http.get(
                f"{reg.url}/v2/ops/tool/manifests/{pushed.digest}", headers={"Accept": OCI_MANIFEST}
            ) as resp:
                assert resp.status == 404
        pushes = [e for e in events if e.get("action") == "push"]
        assert any(e["target"]["digest"] == pushed.digest for e in pushes)  # type: ignore[index]
    finally:
        await runner.cleanup()
