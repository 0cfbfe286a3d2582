"""Issue 17, inbound hooks: closed while no secret is configured (the answer names the setting),
the hook token only in the Authorization header, every hook request audited without its secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from berth_common.store import MemoryStore
from berth_gateway.context import Gateway
from berth_gateway.http import build_app
from gwtest import HOOK_AUTH, HOOK_TOKEN, Stack, settings
from test_auth import alert_payload

CLOSED = {
    "/hooks/alertmanager": "BERTH_GATEWAY_HOOKS_TOKEN",
    "/hooks/registry": "BERTH_GATEWAY_HOOKS_TOKEN",
    "/hooks/chatops/dingtalk": "BERTH_GATEWAY_DINGTALK_APP_SECRET",
    "/hooks/chatops/feishu": "BERTH_GATEWAY_FEISHU_VERIFICATION_TOKEN",
    "/hooks/chatops/slack": "BERTH_GATEWAY_SLACK_SIGNING_SECRET",
}


async def _serve(stack: Stack, **over: Any) -> AsyncIterator[tuple[TestServer, Gateway]]:
    g = Gateway.build(
        backend=stack.gateway.backend, store=MemoryStore(), registry=stack.gateway.registry, settings=settings(**over)
    )
    server = TestServer(build_app(g, track_operations=False), host="127.0.0.1")
    await server.start_server()
    yield server, g
    await server.close()


@pytest.fixture
async def unconfigured(stack: Stack) -> AsyncIterator[tuple[TestServer, Gateway]]:
    none = dict.fromkeys(("hooks_token", "dingtalk_app_secret", "feishu_verification_token", "slack_signing_secret"))
    async for served in _serve(stack, **none):
        yield served


@pytest.fixture
async def configured(stack: Stack) -> AsyncIterator[tuple[TestServer, Gateway]]:
    async for served in _serve(stack):
        yield served


async def test_every_hook_refuses_while_no_secret_is_configured(
    stack: Stack, unconfigured: tuple[TestServer, Gateway]
) -> None:
    server, g = unconfigured
    for path, setting in CLOSED.items():
        async with stack.http.post(str(server.make_url(path + "?tenant=acme")), json={}) as resp:
            body = await resp.json(content_type=None)
            assert resp.status == 503 and resp.content_type == "application/problem+json", (path, body)
            assert setting in body["detail"], (path, body)
    # nothing reached the services, and each refusal is in the audit log
    rows = await g.audit.query(where={}, after=None, limit=100)
    assert {r["path"] for r in rows} == set(CLOSED)
    assert all(r["status"] == 503 and r["result"] == "error" for r in rows)


async def test_the_hook_token_is_never_accepted_in_the_url(
    stack: Stack, configured: tuple[TestServer, Gateway]
) -> None:
    server, g = configured
    url = str(server.make_url(f"/hooks/alertmanager?tenant=acme&token={HOOK_TOKEN}"))
    async with stack.http.post(url, json=alert_payload("X", "f-url")) as resp:
        body = await resp.json()
        assert resp.status == 401 and "Authorization header" in body["detail"]
    async with stack.http.post(url.replace("&token=", "&access_token="), json={}, headers=HOOK_AUTH) as resp:
        assert resp.status == 401
    async with stack.http.post(
        str(server.make_url("/hooks/alertmanager?tenant=acme")), json={}, headers={"Authorization": "Bearer wrong"}
    ) as resp:
        assert resp.status == 401
    rows = await g.audit.query(where={}, after=None, limit=100)
    assert rows and all(HOOK_TOKEN not in str(r) for r in rows)


async def test_accepted_hooks_are_audited_with_their_tenant(
    stack: Stack, configured: tuple[TestServer, Gateway]
) -> None:
    server, g = configured
    url = str(server.make_url("/hooks/alertmanager?tenant=acme"))
    async with stack.http.post(url, json=alert_payload("Audited", "f-aud"), headers=HOOK_AUTH) as resp:
        assert resp.status == 202, await resp.text()
        sent = (await resp.json())["id"]
    rows = await g.audit.query(where={"path": "/hooks/alertmanager"}, after=None, limit=100)
    ok = [r for r in rows if r["status"] == 202]
    assert len(ok) == 1
    row = ok[0]
    assert row["user"] == "hook:alertmanager" and row["via"] == "hook" and row["tenant"] == "acme"
    assert sent in row["detail"] and HOOK_TOKEN not in str(row)
