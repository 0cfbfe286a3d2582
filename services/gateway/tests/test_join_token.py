"""POST .../nodepools/{pool}:join-token: a synchronous, audited call whose reply carries a secret."""

from __future__ import annotations

from gwtest import Stack

PATH = "/api/v1/clusters/acme-prod/nodepools/{pool}:join-token"


async def test_a_tenant_admin_gets_a_join_token_that_caches_must_not_keep(stack: Stack) -> None:
    admin = await stack.user_token("jo", tenant="acme", role="tenant-admin")
    status, body = await stack.call(
        "POST", PATH.format(pool="edge"), token=admin, json={"ttl_seconds": 600}, headers={"X-Request-Id": "join-1"}
    )
    assert status == 201, body
    assert body["token"] == "abcdef.0123456789abcdef"
    asked = stack.world.join_requests[-1]
    assert asked == {"cluster": "acme-prod", "pool": "edge", "ttl_seconds": 600, "tenant": "acme", "requested_by": "jo"}
    async with stack.http.post(
        stack.url + PATH.format(pool="edge"), headers={"Authorization": f"Bearer {admin}"}
    ) as resp:
        assert resp.status == 201 and resp.headers["Cache-Control"] == "no-store"
    status, audit = await stack.call("GET", "/api/v1/audit?user=jo", token=admin)
    entry = [e for e in audit["items"] if e["request_id"] == "join-1"]
    assert entry and entry[0]["action"] == "node-manager.join-command" and entry[0]["status"] == 201
    assert "0123456789abcdef" not in str(audit)


async def test_join_tokens_need_tenant_admin_and_valid_input(stack: Stack) -> None:
    viewer = await stack.user_token("vi", tenant="acme", role="viewer")
    status, body = await stack.call("POST", PATH.format(pool="edge"), token=viewer)
    assert status == 403 and body["status"] == 403
    admin = await stack.user_token("jo2", tenant="acme", role="tenant-admin")
    status, body = await stack.call("POST", PATH.format(pool="edge"), token=admin, json={"ttl_seconds": 5})
    assert status == 422 and "ttl_seconds" in str(body)
    status, body = await stack.call("POST", PATH.format(pool="nope"), token=admin)
    assert status == 404 and "nope" in body["detail"]
    status, body = await stack.call("POST", PATH.format(pool="edge"), token=admin, json={"ttl": 60})
    assert status == 422
    status, body = await stack.call("POST", PATH.format(pool="edge"))  # no tenant for the platform admin
    assert status == 400 or status == 422, body


async def test_join_tokens_are_listed_without_secrets_and_revoked(stack: Stack) -> None:
    stack.world.join_tokens["acme-prod"] = [{"token_id": "abcdef", "expires": "2026-01-02T00:00:00+00:00"}]
    admin = await stack.user_token("jo3", tenant="acme", role="tenant-admin")
    status, body = await stack.call("GET", "/api/v1/clusters/acme-prod/join-tokens", token=admin)
    assert status == 200 and [t["token_id"] for t in body["items"]] == ["abcdef"], body
    developer = await stack.user_token("dev", tenant="acme", role="developer")
    status, _ = await stack.call("DELETE", "/api/v1/clusters/acme-prod/join-tokens/abcdef", token=developer)
    assert status == 403
    status, body = await stack.call("DELETE", "/api/v1/clusters/acme-prod/join-tokens/abcdef", token=admin)
    assert status == 200 and body["revoked"] is True
    status, body = await stack.call("DELETE", "/api/v1/clusters/acme-prod/join-tokens/abcdef", token=admin)
    assert status == 404
    status, audit = await stack.call("GET", "/api/v1/audit?user=jo3", token=admin)
    assert any(e["action"] == "cluster-manager.revoke-join-token" and e["status"] == 200 for e in audit["items"])
