"""HTTP bodies come from the schema's commands: unknown fields are named, limits are the schema's,
dead-lettered commands fail their operation, list totals pass through."""

from __future__ import annotations

import asyncio
from typing import Any

from gwtest import Stack


async def _wait_operation(stack: Stack, op_id: str, *, state: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(200):
        status, body = await stack.call("GET", f"/api/v1/operations/{op_id}")
        assert status == 200
        if body["state"] == state:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"operation never reached {state}: {body}")


async def test_a_field_the_command_does_not_know_is_a_422_naming_it(stack: Stack) -> None:
    status, body = await stack.call(
        "POST", "/api/v1/clusters/acme-prod:upgrade?tenant=acme", json={"version": "v1.31.0", "bogus": 1}
    )
    assert status == 422, body
    assert body["errors"] == [{"field": "bogus", "message": "unknown field: UpgradeCluster has no field 'bogus'"}]
    # the path sets the cluster; the body cannot
    status, body = await stack.call(
        "POST", "/api/v1/clusters/acme-prod:upgrade?tenant=acme", json={"version": "v1.31.0", "cluster": "other"}
    )
    assert status == 422 and body["errors"][0]["field"] == "cluster", body
    # a wrapped spec (registry-sync's RegistrySpec) names its own unknown fields too
    status, body = await stack.call(
        "POST", "/api/v1/registries?tenant=acme", json={"name": "r1", "url": "http://127.0.0.1:5000", "colour": "red"}
    )
    assert status == 422 and body["errors"][0]["field"] == "colour", body


async def test_the_schema_rules_answer_with_the_field(stack: Stack) -> None:
    # SilenceAlerts: duration_minutes at most 525600
    status, body = await stack.call(
        "POST", "/api/v1/silences?tenant=acme", json={"matchers": ["alertname=X"], "duration_minutes": 10**7}
    )
    assert status == 422 and body["errors"][0]["field"] == "duration_minutes", body
    # PolicySpec's own cross-field rule, named through the wrap
    status, body = await stack.call(
        "POST", "/api/v1/replication-policies?tenant=acme", json={"name": "p", "source": "a", "destination": "a"}
    )
    assert status == 422, body


async def test_namespace_description_limit_is_cluster_managers_60(stack: Stack) -> None:
    path = "/api/v1/clusters/acme-prod/namespaces?tenant=acme"
    status, body = await stack.call("POST", path, json={"name": "web", "description": "x" * 61})
    assert status == 422 and body["errors"][0]["field"] == "description", body
    status, body = await stack.call("POST", path, json={"name": "web", "network_isolation": True})
    assert status == 422 and body["errors"][0]["field"] == "network_isolation", body


async def test_dead_lettered_command_fails_its_operation_with_the_reason(stack: Stack) -> None:
    # the stub cluster-manager refuses every upgrade as poison: the bus dead-letters the command
    status, body = await stack.call(
        "POST", "/api/v1/clusters/acme-prod:upgrade?tenant=acme", json={"version": "v9.9.9"}
    )
    assert status == 202, body
    op = await _wait_operation(stack, body["operation"]["id"], state="failed")
    assert "cluster-manager could not apply the command" in op["message"]
    assert "version v9.9.9 is not supported by this stub" in op["message"]
    assert op["steps"][-1]["name"] == "dead-lettered"


async def test_list_passes_the_services_totals_through(stack: Stack) -> None:
    status, body = await stack.call("GET", "/api/v1/clusters/acme-prod/namespaces?tenant=acme&limit=2")
    assert status == 200, body
    assert [n["name"] for n in body["items"]] == ["ns-0", "ns-1"]
    assert body["remaining"] == 97 and body["limit"] == 100 and body["next_cursor"]
