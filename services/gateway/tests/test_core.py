"""Gateway core: routing, problem+json, pagination, idempotency, 202 operations, OpenAPI."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from gwtest import Stack


async def test_openapi_is_3_1_and_generated_from_models(stack: Stack) -> None:
    async with stack.http.get(stack.url + "/openapi.json") as resp:
        doc = await resp.json()
    assert doc["openapi"] == "3.1.0"
    create = doc["paths"]["/api/v1/clusters"]["post"]
    # the schema's ClusterSpec (CreateCluster.spec), not a form of the gateway's
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert ref == "ClusterSpecBody", ref
    assert "pod_cidr" in doc["components"]["schemas"][ref]["properties"]
    assert "/api/v1/clusters/{cluster}:upgrade" in doc["paths"]


async def test_invalid_cidr_names_the_field(stack: Stack) -> None:
    status, body = await stack.call(
        "POST", "/api/v1/clusters?tenant=acme", json={"name": "c1", "pod_cidr": "172.16.0.0/33"}
    )
    assert status == 422, body
    assert body["errors"][0]["field"] == "pod_cidr"
    assert "CIDR" in body["errors"][0]["message"]


async def test_overlapping_cidrs_are_rejected(stack: Stack) -> None:
    status, body = await stack.call(
        "POST",
        "/api/v1/clusters?tenant=acme",
        json={"name": "c1", "pod_cidr": "10.0.0.0/16", "service_cidr": "10.0.0.0/20", "subnet_cidr": "10.1.0.0/24"},
    )
    assert status == 422
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert re.search(r"overlaps (the )?service[_ ]cidr", fields["pod_cidr"], re.IGNORECASE), fields
    assert "not inside the VPC" in fields["subnet_cidr"]


async def test_errors_are_problem_json(stack: Stack) -> None:
    async with stack.http.get(stack.url + "/api/v1/nope", headers={"Authorization": "Bearer x"}) as resp:
        assert resp.status == 401
        assert resp.content_type == "application/problem+json"
    for method, path, kw, code in [
        ("GET", "/api/v1/nope", {}, 404),
        ("PATCH", "/api/v1/clusters", {}, 405),
        ("POST", "/api/v1/clusters?tenant=acme", {"data": "name=x", "headers": {"Content-Type": "text/plain"}}, 415),
        ("POST", "/api/v1/clusters?tenant=acme", {"data": b"{", "headers": {"Content-Type": "application/json"}}, 400),
        ("POST", "/api/v1/tenants", {"json": {"name": "x" * 2_000_000}}, 413),
        ("GET", "/api/v1/clusters?limit=0", {}, 400),
        ("GET", "/api/v1/clusters?cursor=%%%", {}, 400),
    ]:
        status, body = await stack.call(method, path, **kw)
        assert status == code, (method, path, body)
        assert body["status"] == code and body["detail"], body


async def test_missing_op_is_503_not_a_fake_success(stack: Stack) -> None:
    # cluster-manager (the stub here, the real one too) has no list-addons query
    status, body = await stack.call("GET", "/api/v1/clusters/acme-prod/addons?tenant=acme")
    assert status == 503
    assert body["detail"] == "service cluster-manager does not offer op list-addons yet"
    # the stub dr-switcher answers list-groups only
    status, body = await stack.call("GET", "/api/v1/dr-groups/shop?tenant=acme")
    assert status == 503 and "dr-switcher does not offer op get-group" in body["detail"]


async def test_pagination_with_opaque_cursor(stack: Stack) -> None:
    for i in range(5):
        stack.world.clusters.append({"name": f"page-{i}", "tenant": "paging", "phase": "Running"})
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        status, body = await stack.call("GET", f"/api/v1/clusters?tenant=paging&limit=2&cursor={cursor}")
        assert status == 200, body
        seen += [c["name"] for c in body["items"]]
        cursor = body["next_cursor"] or ""
        if not cursor:
            break
        assert "page-" not in cursor  # opaque
    assert seen == [f"page-{i}" for i in range(5)]


async def _wait_operation(stack: Stack, op_id: str, *, state: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(100):
        status, body = await stack.call("GET", f"/api/v1/operations/{op_id}")
        assert status == 200
        if body["state"] == state:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"operation never reached {state}: {body}")


async def test_create_answers_202_and_operation_follows_facts(stack: Stack) -> None:
    status, body = await stack.call("POST", "/api/v1/clusters?tenant=acme", json={"name": "acme-dev"})
    assert status == 202, body
    op = body["operation"]
    assert op["state"] == "pending" and op["target"] == "clusters/acme-dev"
    done = await _wait_operation(stack, op["id"], state="succeeded")
    assert [s["name"] for s in done["steps"]] == ["requested", "step", "running"]
    status, cluster = await stack.call("GET", "/api/v1/clusters/acme-dev?tenant=acme")
    assert status == 200 and cluster["phase"] == "Running"


async def test_idempotency_key(stack: Stack) -> None:
    headers = {"Idempotency-Key": "k-123"}
    body1 = {"name": "idem-1"}
    s1, r1 = await stack.call("POST", "/api/v1/clusters?tenant=acme", json=body1, headers=headers)
    s2, r2 = await stack.call("POST", "/api/v1/clusters?tenant=acme", json=body1, headers=headers)
    assert s1 == s2 == 202
    assert r1 == r2  # the same operation, not a second create
    s3, r3 = await stack.call("POST", "/api/v1/clusters?tenant=acme", json={"name": "idem-2"}, headers=headers)
    assert s3 == 422
    assert r3["errors"][0]["field"] == "Idempotency-Key"
