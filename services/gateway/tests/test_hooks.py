"""/hooks/alertmanager and /hooks/registry: validated against berth_schema.hooks, sent as the owning
service's ingest-webhook command, behind the hook token."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from berth_gateway.context import Gateway
from berth_gateway.http import build_app
from gwtest import HOOK_AUTH, Stack, settings

PUSH = {
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
AUTH = HOOK_AUTH


@pytest.fixture
async def hooks(stack: Stack) -> AsyncIterator[TestServer]:
    g = Gateway.build(
        backend=stack.gateway.backend,
        store=stack.gateway.store,
        registry=stack.gateway.registry,
        settings=settings(),
    )
    server = TestServer(build_app(g, track_operations=False), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_hooks_check_the_hook_token(stack: Stack, hooks: TestServer) -> None:
    url = str(hooks.make_url("/hooks/registry?tenant=acme"))
    async with stack.http.post(url, json=PUSH) as resp:
        assert resp.status == 401 and resp.content_type == "application/problem+json"
    async with stack.http.post(url, json=PUSH, headers=AUTH) as resp:
        assert resp.status == 202, await resp.text()
        assert (await resp.json())["accepted"] == 1


async def test_registry_hook_names_the_bad_field(stack: Stack, hooks: TestServer) -> None:
    url = str(hooks.make_url("/hooks/registry?tenant=acme"))
    async with stack.http.post(url, json={"nope": 1}, headers=AUTH) as resp:
        body = await resp.json()
        assert resp.status == 400 and "events" in body["detail"]
    bad = {"events": [{"action": "push", "target": {"tag": "v1"}}]}
    async with stack.http.post(url, json=bad, headers=AUTH) as resp:
        body = await resp.json()
        assert resp.status == 400 and resp.content_type == "application/problem+json"
        assert body["errors"][0]["field"] == "events[0].target.repository", body
    async with stack.http.post(url, data=b"{}", headers={**AUTH, "Content-Type": "text/plain"}) as resp:
        assert resp.status == 415
    async with stack.http.post(url + "&registry=Bad_Name", json=PUSH, headers=AUTH) as resp:
        assert resp.status == 400 and (await resp.json())["errors"][0]["field"] == "registry"


async def test_alertmanager_hook_names_the_bad_field(stack: Stack, hooks: TestServer) -> None:
    am = str(hooks.make_url("/hooks/alertmanager?tenant=acme"))
    async with stack.http.post(am, json={"alerts": "x"}, headers=AUTH) as r:
        assert r.status == 400 and r.content_type == "application/problem+json"
    body = {
        "version": "4",
        "groupKey": "g",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": "X"}, "startsAt": "2026-01-01T00:00:00Z"}],
    }
    async with stack.http.post(am, json=body, headers=AUTH) as r:
        problem = await r.json()
        assert r.status == 400 and problem["errors"] == [{"field": "alerts.0.fingerprint", "message": "Field required"}]
    body["alerts"][0]["fingerprint"] = "f1"  # type: ignore[index]
    async with stack.http.post(am, json=body, headers=AUTH) as r:
        assert r.status == 202, await r.text()
        assert (await r.json())["accepted"] == 1


def test_the_gateway_imports_no_service_package() -> None:
    code = (
        "import sys, berth_gateway.app, berth_gateway.http, berth_gateway.hooks.forward, berth_gateway.openapi\n"
        "from berth_gateway.openapi import build_openapi\n"
        "build_openapi()\n"
        "services = ('cluster_manager', 'node_manager', 'registry_sync', 'release_orchestrator',"
        " 'monitor_alert', 'dr_switcher')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'berth_' + s for s in services}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
