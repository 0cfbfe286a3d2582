"""Issue 17 probe findings: deep JSON is a 400, never a 500; booleans are not integers and unknown
fields are refused on the gateway's bodies; lists page with the service past 500 items;
unauthenticated callers are rate-limited per address and audited in aggregate; cross-tenant
refusals are audited in the tenant that was asked for."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from berth_common.store import MemoryStore
from berth_gateway.context import Gateway
from berth_gateway.hooks.signatures import dingtalk_sign, slack_signature
from berth_gateway.http import build_app
from gwtest import ADMIN_TOKEN, DINGTALK_SECRET, HOOK_AUTH, SLACK_SECRET, Stack, settings
from test_chatops import fresh_ms

DEEP = b"[" * 100_000 + b"]" * 100_000
NESTED = ('{"a":' * 40 + "1" + "}" * 40).encode()  # parses fine, but deeper than any body needs


async def _raw(stack: Stack, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with stack.http.post(stack.url + path, data=raw, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_deep_json_is_a_400_on_api_routes_and_hooks(stack: Stack) -> None:
    api = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    hook = {**HOOK_AUTH, "Content-Type": "application/json"}
    for body in (DEEP, NESTED):
        for path, headers in (
            ("/api/v1/tenants", api),
            ("/api/v1/clusters?tenant=acme", api),
            ("/api/v1/chat-bindings", api),
            ("/hooks/alertmanager?tenant=acme", hook),
            ("/hooks/registry?tenant=acme", hook),
        ):
            status, problem = await _raw(stack, path, body, headers)
            assert status == 400 and problem["status"] == 400, (path, problem)
        ts = fresh_ms()
        signed = {"timestamp": ts, "sign": dingtalk_sign(DINGTALK_SECRET, ts), "Content-Type": "application/json"}
        status, problem = await _raw(stack, "/hooks/chatops/dingtalk", body, signed)
        assert status == 400, problem


async def test_chat_hooks_answer_400_on_malformed_bodies(stack: Stack) -> None:
    ts = fresh_ms()
    signed = {"timestamp": ts, "sign": dingtalk_sign(DINGTALK_SECRET, ts), "Content-Type": "application/json"}
    status, _ = await _raw(stack, "/hooks/chatops/dingtalk", b"{", signed)
    assert status == 400
    raw = b"\xff\xfe user_id=U1"
    now = str(int(time.time()))
    slack = {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": slack_signature(SLACK_SECRET, now, raw)}
    status, _ = await _raw(stack, "/hooks/chatops/slack", raw, slack)
    assert status == 400
    status, _ = await _raw(stack, "/hooks/chatops/feishu", b"[1, 2", {"Content-Type": "application/json"})
    assert status == 400


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/tokens", {"name": "t", "expires_in_days": True}, "expires_in_days"),
        ("/api/v1/tokens", {"name": "t", "expires_in_days": "9"}, "expires_in_days"),
        ("/api/v1/clusters?tenant=acme", {"name": "b1", "max_pods_per_node": True}, "max_pods_per_node"),
        ("/api/v1/silences?tenant=acme", {"matchers": ["a=b"], "duration_minutes": True}, "duration_minutes"),
        ("/api/v1/clusters/acme-prod/nodepools/edge:join-token?tenant=acme", {"ttl_seconds": True}, "ttl_seconds"),
        ("/api/v1/tenants", {"name": "t-extra", "colour": "red"}, "colour"),
        ("/api/v1/tenants/acme/members", {"user": "u", "role": "viewer", "admin": True}, "admin"),
        ("/api/v1/tokens", {"name": "t", "scopes": ["all"]}, "scopes"),
        ("/api/v1/chat-bindings", {"platform": "slack", "chat_user": "U", "user": "admin", "x": 1}, "x"),
    ],
)
async def test_bodies_are_strict(stack: Stack, path: str, body: dict[str, Any], field: str) -> None:
    await stack.call("POST", "/api/v1/tenants", json={"name": "acme"})
    status, problem = await stack.call("POST", path, json=body)
    assert status == 422, problem
    assert field in {e["field"] for e in problem["errors"]}, problem


async def test_lists_page_with_the_service_past_500_items(stack: Stack) -> None:
    bulk = [{"name": f"bulk-{i:04d}", "tenant": "bulk", "phase": "Running"} for i in range(1200)]
    ns = [{"name": f"bulk-ns-{i:04d}", "tenant": "bulk"} for i in range(700)]
    stack.world.clusters.extend(bulk)
    stack.world.namespaces.extend(ns)
    try:
        seen: list[str] = []
        cursor = ""
        for _ in range(10):
            status, body = await stack.call("GET", f"/api/v1/clusters?tenant=bulk&limit=500&cursor={cursor}")
            assert status == 200, body
            seen += [c["name"] for c in body["items"]]
            cursor = body["next_cursor"] or ""
            if not cursor:
                break
        assert seen == [c["name"] for c in bulk]
        # a get served from the service's list finds an item past its first page
        status, body = await stack.call("GET", "/api/v1/clusters/acme-prod/namespaces/bulk-ns-0650?tenant=bulk")
        assert status == 200 and body["name"] == "bulk-ns-0650", body
    finally:
        stack.world.clusters[:] = [c for c in stack.world.clusters if c.get("tenant") != "bulk"]
        stack.world.namespaces[:] = [n for n in stack.world.namespaces if n.get("tenant") != "bulk"]


@pytest.fixture
async def strict_limits(stack: Stack) -> AsyncIterator[tuple[TestServer, Gateway]]:
    g = Gateway.build(
        backend=stack.gateway.backend,
        store=MemoryStore(),
        registry=stack.gateway.registry,
        settings=settings(anon_rate_per_second=0.01, anon_rate_burst=3),
    )
    server = TestServer(build_app(g, track_operations=False), host="127.0.0.1")
    await server.start_server()
    yield server, g
    await server.close()


async def test_unauthenticated_callers_are_limited_per_address_and_audited_in_aggregate(
    stack: Stack, strict_limits: tuple[TestServer, Gateway]
) -> None:
    server, g = strict_limits
    codes = []
    for i in range(12):
        headers = {"Authorization": "Bearer berth_nope_wrong"} if i % 2 else {}
        async with stack.http.post(str(server.make_url("/api/v1/tenants")), json={"name": "x"}, headers=headers) as r:
            codes.append(r.status)
            if r.status == 429:
                assert int(r.headers["Retry-After"]) >= 1
    assert codes[:3] == [401, 401, 401] and set(codes[3:]) == {429}, codes
    async with stack.http.post(str(server.make_url("/hooks/alertmanager")), json={}) as r:
        assert r.status == 429  # the same address, refused at the hooks too
    # a caller who authenticates is not held back by the address (a proxy or NAT may share it)
    async with stack.http.get(
        str(server.make_url("/api/v1/whoami")), headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as r:
        assert r.status == 200
    rows = await g.audit.query(where={}, after=None, limit=100)
    assert len(rows) <= 3, rows  # one per (address, kind, status) and window, not one per request
    assert {r["status"] for r in rows} >= {401, 429}


async def test_cross_tenant_refusals_are_audited_in_the_tenant_asked_for(stack: Stack) -> None:
    eve = await stack.user_token("xt-eve", tenant="acme", role="tenant-admin")
    status, _ = await stack.call("POST", "/api/v1/clusters?tenant=globex", token=eve, json={"name": "sneak"})
    assert status == 403
    status, _ = await stack.call("GET", "/api/v1/clusters?tenant=globex", token=eve)
    assert status == 403
    status, body = await stack.call("GET", "/api/v1/audit?tenant=globex&user=xt-eve")
    assert status == 200, body
    assert {(r["method"], r["status"]) for r in body["items"]} == {("POST", 403), ("GET", 403)}, body
