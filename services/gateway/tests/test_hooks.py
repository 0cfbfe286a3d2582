"""/hooks/alertmanager and /hooks/registry: the services' own webhook routes, behind the hook token."""

from __future__ import annotations

from aiohttp.test_utils import TestServer
from berth_gateway.context import Gateway
from berth_gateway.http import build_app
from gwtest import Stack, settings
from pydantic import SecretStr


async def test_hooks_are_the_services_routes_and_check_the_hook_token(stack: Stack) -> None:
    g = Gateway.build(
        backend=stack.gateway.backend,
        store=stack.gateway.store,
        registry=stack.gateway.registry,
        settings=settings(hooks_token=SecretStr("hook-secret")),
    )
    server = TestServer(build_app(g, track_operations=False), host="127.0.0.1")
    await server.start_server()
    try:
        url = str(server.make_url("/hooks/registry?tenant=acme"))
        body = {
            "events": [
                {
                    "action": "push",
                    "target": {
                        "repository": "team/app",
                        "tag": "v1",
                        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                        "url": "http://127.0.0.1:5999/v2/team/app/manifests/sha256:00",
                    },
                }
            ]
        }
        async with stack.http.post(url, json=body) as resp:
            assert resp.status == 401 and resp.content_type == "application/problem+json"
        async with stack.http.post(url, json=body, headers={"Authorization": "Bearer hook-secret"}) as resp:
            assert resp.status == 202, await resp.text()
        # registry-sync's own validation answers through the gateway
        async with stack.http.post(url, json={"nope": 1}, headers={"Authorization": "Bearer hook-secret"}) as resp:
            assert resp.status == 400 and "events" in (await resp.json())["detail"]
        am = str(server.make_url("/hooks/alertmanager?tenant=acme"))
        async with stack.http.post(am, json={"alerts": "x"}, headers={"Authorization": "Bearer hook-secret"}) as r:
            assert r.status == 400 and r.content_type == "application/problem+json"
    finally:
        await server.close()
