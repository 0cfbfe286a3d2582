"""Auth: tokens stored hashed, OIDC JWTs, roles per tenant/namespace, isolation, audit, rate limits."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from berth_gateway.context import Gateway
from berth_gateway.http import build_app
from cryptography.hazmat.primitives.asymmetric import rsa
from gwtest import ADMIN_TOKEN, HOOK_AUTH, Stack, settings
from jwt.algorithms import RSAAlgorithm

LISTS = {
    "/api/v1/clusters": ("name", "acme-prod", "globex-prod", "/api/v1/clusters/{}"),
    "/api/v1/registries": ("name", "acme-harbor", "globex-harbor", "/api/v1/registries/{}"),
    "/api/v1/releases": ("name", "acme-web", "globex-web", "/api/v1/releases/{}"),
    "/api/v1/alerts": ("fingerprint", "acme01", "globex01", "/api/v1/alerts/{}"),
}


def alert_payload(name: str, fingerprint: str) -> dict[str, Any]:
    labels = {"alertname": name, "severity": "critical", "cluster": "c1"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "berth",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.local",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {},
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.local/graph",
                "fingerprint": fingerprint,
            }
        ],
    }


async def wait_until(stack: Stack, path: str, token: str, pred: Any) -> Any:
    body: Any = None
    for _ in range(100):
        status, body = await stack.call("GET", path, token=token)
        if status == 200 and pred(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never satisfied the condition: {body}")


async def seed_real_services(stack: Stack, tenant: str, token: str) -> None:
    """Data of ``tenant`` in the real registry-sync and monitor-alert, through the gateway."""
    status, body = await stack.call(
        "POST", "/api/v1/registries", token=token, json={"name": f"{tenant}-harbor", "url": "http://127.0.0.1:5999"}
    )
    assert status == 202, body
    op = body["operation"]["id"]
    await wait_until(stack, f"/api/v1/operations/{op}", token, lambda b: b["state"] == "succeeded")
    async with stack.http.post(
        stack.url + f"/hooks/alertmanager?tenant={tenant}", json=alert_payload("Down", f"{tenant}01"), headers=HOOK_AUTH
    ) as resp:
        assert resp.status == 202, await resp.text()
    await wait_until(stack, "/api/v1/alerts", token, lambda b: bool(b["items"]))


async def test_tenant_a_never_sees_tenant_b(stack: Stack) -> None:
    alice = await stack.user_token("alice", tenant="acme", role="viewer")
    bob = await stack.user_token("bob", tenant="globex", role="viewer")
    for tenant in ("acme", "globex"):
        await seed_real_services(
            stack, tenant, await stack.user_token(f"{tenant}-admin", tenant=tenant, role="tenant-admin")
        )
    for path, (key, mine, theirs, get) in LISTS.items():
        for token, own, other in ((alice, mine, theirs), (bob, theirs, mine)):
            status, body = await stack.call("GET", path, token=token)
            assert status == 200, (path, body)
            names = {i[key] for i in body["items"]}
            assert own in names and other not in names, (path, names)
            assert {i["tenant"] for i in body["items"]} == {"acme" if own == mine else "globex"}
            status, body = await stack.call("GET", get.format(own), token=token)
            assert status == 200 and body[key] == own
            status, body = await stack.call("GET", get.format(other), token=token)
            assert status == 404, (path, body)
        status, body = await stack.call("GET", path + "?tenant=globex", token=alice)
        assert status == 403 and "no role in tenant globex" in body["detail"]


async def test_roles_gate_mutations(stack: Stack) -> None:
    viewer = await stack.user_token("vic", tenant="acme", role="viewer")
    status, body = await stack.call("POST", "/api/v1/clusters", token=viewer, json={"name": "nope"})
    assert status == 403 and "tenant-admin" in body["detail"]
    dev_ns = await stack.user_token("dora", tenant="acme", role="developer", namespace="team-a")
    # a namespace-bound developer has no tenant-wide rights
    status, _ = await stack.call("GET", "/api/v1/clusters", token=dev_ns)
    assert status == 403
    status, _ = await stack.call("GET", "/api/v1/clusters/acme-prod/namespaces/team-b", token=dev_ns)
    assert status == 403
    status, body = await stack.call("GET", "/api/v1/clusters/acme-prod/namespaces/team-a", token=dev_ns)
    assert status == 404  # allowed through (403 otherwise); the stub cluster-manager lists no team-a
    status, body = await stack.call("POST", "/api/v1/tenants", token=viewer, json={"name": "evil"})
    assert status == 403


async def test_tokens_are_stored_hashed_and_shown_once(stack: Stack) -> None:
    status, body = await stack.call("POST", "/api/v1/tokens", json={"name": "ci"})
    assert status == 201
    token = body["token"]
    rec = await stack.gateway.tokens.col.get(body["id"])
    assert rec is not None
    assert token not in json.dumps(rec.data) and token.split("_")[-1] not in json.dumps(rec.data)
    assert rec.data["salt"] and len(rec.data["hash"]) == 64
    status, me = await stack.call("GET", "/api/v1/whoami", token=token)
    assert status == 200 and me["user"] == "admin" and me["via"] == "token"
    status, listed = await stack.call("GET", "/api/v1/tokens")
    assert all("token" not in t and "hash" not in t for t in listed["items"])
    status, _ = await stack.call("DELETE", f"/api/v1/tokens/{body['id']}")
    assert status == 204
    status, _ = await stack.call("GET", "/api/v1/whoami", token=token)
    assert status == 401
    status, _ = await stack.call("GET", "/api/v1/whoami", token=token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert status == 401


async def test_every_mutation_is_audited(stack: Stack) -> None:
    admin_of_acme = await stack.user_token("ada", tenant="acme", role="tenant-admin")
    status, _ = await stack.call(
        "POST",
        "/api/v1/clusters",
        token=admin_of_acme,
        json={"name": "audited"},
        headers={"X-Request-Id": "req-audit-1"},
    )
    assert status == 202
    status, _ = await stack.call("POST", "/api/v1/clusters", token=admin_of_acme, json={"name": "Bad Name"})
    assert status == 422
    status, body = await stack.call("GET", "/api/v1/audit?user=ada", token=admin_of_acme)
    assert status == 200, body
    entries = body["items"]
    ok = [e for e in entries if e["request_id"] == "req-audit-1"]
    assert ok and ok[0]["action"] == "cluster-manager.create" and ok[0]["result"] == "ok" and ok[0]["time"]
    assert ok[0]["tenant"] == "acme" and ok[0]["status"] == 202
    assert any(e["status"] == 422 and e["result"] == "error" for e in entries)
    # tenant-admin of acme does not see globex's audit
    await stack.call("POST", "/api/v1/tenants/globex/members", json={"user": "zed", "role": "viewer"})
    status, body = await stack.call("GET", "/api/v1/audit", token=admin_of_acme)
    assert all(e["tenant"] == "acme" for e in body["items"])
    status, _ = await stack.call("GET", "/api/v1/audit?tenant=globex", token=admin_of_acme)
    assert status == 403


async def _serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_rate_limit_answers_429_with_retry_after(stack: Stack) -> None:
    g = Gateway.build(
        backend=stack.gateway.backend,
        store=stack.gateway.store,
        settings=settings(rate_per_second=0.5, rate_burst=2),
        registry=stack.gateway.registry,
    )
    server = await _serve(build_app(g, track_operations=False))
    try:
        url = str(server.make_url("/api/v1/whoami"))
        codes = []
        for _ in range(3):
            async with stack.http.get(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as resp:
                codes.append(resp.status)
                if resp.status == 429:
                    assert resp.content_type == "application/problem+json"
                    assert int(resp.headers["Retry-After"]) >= 1
        assert codes == [200, 200, 429]
    finally:
        await server.close()


@pytest.fixture
async def jwks() -> AsyncIterator[tuple[Any, str]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})

    async def keys(_: web.Request) -> web.Response:
        return web.json_response({"keys": [jwk]})

    app = web.Application()
    app.router.add_get("/jwks", keys)
    server = await _serve(app)
    yield key, str(server.make_url("/jwks"))
    await server.close()


def _oidc_gateway(stack: Stack, jwks_url: str) -> Gateway:
    return Gateway.build(
        backend=stack.gateway.backend,
        store=stack.gateway.store,
        registry=stack.gateway.registry,
        settings=settings(
            oidc_issuer="https://idp.test", oidc_audience="berth", oidc_jwks_url=jwks_url, oidc_user_claim="email"
        ),
    )


def _jwt(key: Any, **over: Any) -> str:
    claims = {
        "iss": "https://idp.test",
        "aud": "berth",
        "email": "olga@acme.test",
        "exp": int(time.time()) + 60,
        **over,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


async def test_oidc_jwt_from_a_local_jwks(stack: Stack, jwks: tuple[Any, str]) -> None:
    key, url = jwks
    g = _oidc_gateway(stack, url)
    await g.directory.bind(tenant="acme", user="olga@acme.test", role="viewer")
    server = await _serve(build_app(g, track_operations=False))

    def token(**over: Any) -> str:
        return _jwt(key, **over)

    try:

        async def get(t: str) -> tuple[int, Any]:
            async with stack.http.get(
                str(server.make_url("/api/v1/clusters")), headers={"Authorization": f"Bearer {t}"}
            ) as resp:
                return resp.status, await resp.json()

        status, body = await get(token())
        assert status == 200 and {c["tenant"] for c in body["items"]} == {"acme"}
        status, body = await get(token(aud="other"))
        assert status == 401 and "audience" in body["detail"].lower()
        status, body = await get(token(iss="https://evil.test"))
        assert status == 401
        status, body = await get(token(exp=int(time.time()) - 10))
        assert status == 401 and "expired" in body["detail"].lower()
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(
            {"iss": "https://idp.test", "aud": "berth", "email": "olga@acme.test", "exp": int(time.time()) + 60},
            other,
            algorithm="RS256",
            headers={"kid": "k1"},
        )
        status, body = await get(forged)
        assert status == 401 and "signature" in body["detail"].lower()
    finally:
        await server.close()


async def test_oidc_groups_get_the_roles_bound_to_them(stack: Stack, jwks: tuple[Any, str]) -> None:
    key, url = jwks
    g = _oidc_gateway(stack, url)
    server = await _serve(build_app(g, track_operations=False))

    async def call(method: str, path: str, token: str, **kw: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with stack.http.request(method, str(server.make_url(path)), headers=headers, **kw) as resp:
            return resp.status, await resp.json(content_type=None) if resp.status != 204 else None

    try:
        status, body = await call("POST", "/api/v1/tenants", ADMIN_TOKEN, json={"name": "acme"})
        assert status in (201, 409), body
        bound = {"group": "sre@acme.test", "role": "developer"}
        status, body = await call("POST", "/api/v1/tenants/acme/members", ADMIN_TOKEN, json=bound)
        assert status == 201 and body["group"] == "sre@acme.test" and body["user"] == "", body
        status, body = await call(
            "POST", "/api/v1/tenants/acme/members", ADMIN_TOKEN, json={"user": "a", "group": "b", "role": "viewer"}
        )
        assert status == 422 and "exactly one of user or group" in str(body)

        ivan = {"email": "ivan@acme.test"}
        status, body = await call("GET", "/api/v1/clusters?tenant=acme", _jwt(key, **ivan, groups=["sre@acme.test"]))
        assert status == 200 and {c["tenant"] for c in body["items"]} == {"acme"}, body
        status, body = await call("GET", "/api/v1/clusters?tenant=acme", _jwt(key, **ivan, groups=["other"]))
        assert status == 403, body
        status, body = await call("GET", "/api/v1/clusters", _jwt(key, **ivan, groups={"sre": True}))
        assert status == 401 and "groups" in body["detail"]

        status, _ = await call("DELETE", "/api/v1/tenants/acme/groups/sre@acme.test", ADMIN_TOKEN)
        assert status == 204
        status, _ = await call("GET", "/api/v1/clusters?tenant=acme", _jwt(key, **ivan, groups=["sre@acme.test"]))
        assert status == 403
        status, body = await call("DELETE", "/api/v1/tenants/acme/groups/sre@acme.test", ADMIN_TOKEN)
        assert status == 404
    finally:
        await server.close()
