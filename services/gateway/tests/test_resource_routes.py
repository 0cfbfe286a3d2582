"""The routes issue 14 added, each through the gateway on the fast stubs (real monitor-alert and
registry-sync): the happy path, a 422 naming the bad field, a viewer refused the mutation, and
another tenant refused (commands) or not shown (reads)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import pytest
from berth_gateway.routes import ROUTES
from gwtest import Stack

C = "/api/v1/clusters/acme-prod"
WORKLOAD = {"image": "registry.acme/web:1.0"}
SITE = {"name": "beijing", "dns_targets": ["10.0.0.1"], "probes": [{"kind": "tcp", "host": "127.0.0.1", "port": 9}]}
STANDBY = {**SITE, "name": "shanghai", "dns_targets": ["10.0.0.2"]}
GROUP = {"primary": SITE, "standby": STANDBY, "dns": {"zone": "acme.test.", "record": "shop.acme.test."}}
CONFIG = {"app": "web", "environment": "prod", "cluster": "acme-prod", "namespace": "web", "data": {"a": "1"}}
POLICY = {
    "target": {"kind": "node-pool", "cluster": "acme-prod", "pool": "edge"},
    "trigger": {"type": "alert", "matchers": ["alertname=HighLoad"]},
    "min": 1,
    "max": 5,
}


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: dict[str, Any] | None
    bad: dict[str, Any]  # a body with one bad field
    field: str  # the field the 422 names (a prefix of it for nested fields)
    role: str = "tenant-admin"  # the least role that may: a viewer (and a lesser role) is refused

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


COMMANDS = [
    Case("POST", C + "/addons", {"addon": "metrics-server"}, {"addon": "metrics-server", "colour": 1}, "colour"),
    Case("PUT", C + "/addons/metrics-server", {"values": {"replicas": 2}}, {"values": "many"}, "values"),
    Case("DELETE", C + "/addons/metrics-server", None, {"addon": "coredns"}, "addon"),
    Case("POST", C + ":renew-certificates", None, {"certificates": ["all"]}, "certificates"),
    Case("PUT", "/api/v1/tenants/acme/limits", {"clusters": 5}, {"clusters": -1}, "clusters", "platform-admin"),
    Case("POST", C + "/nodes", {"pool": "edge", "count": 1}, {"pool": "edge", "count": "one"}, "count"),
    Case("DELETE", C + "/nodes/node-1", None, {"force": "yes"}, "force"),
    Case("POST", C + "/nodes:labels", {"nodes": ["node-1"], "set": {"tier": "web"}}, {"nodes": "node-1"}, "nodes"),
    Case(
        "POST",
        C + "/nodes:taints",
        {"nodes": ["node-1"], "add": [{"key": "gpu", "value": "yes", "effect": "NoSchedule"}]},
        {"nodes": ["node-1"], "add": [{"key": "gpu", "effect": "Sometimes"}]},
        "add",
    ),
    Case("PUT", "/api/v1/registries/hub", {"url": "http://127.0.0.1:5999"}, {"name": "other"}, "name"),
    Case(
        "PUT",
        "/api/v1/replication-policies/mirror",
        {"source": "hub", "destination": "backup"},
        {"source": "hub", "destination": "backup", "colour": 1},
        "colour",
    ),
    Case("DELETE", "/api/v1/replication-policies/mirror", None, {"name": "other"}, "name"),
    Case(
        "POST",
        "/api/v1/registry-dr-pairs",
        {"name": "hub-dr", "primary": "hub", "standby": "backup"},
        {"name": "hub-dr", "primary": "hub", "standby": "backup", "reconcile_seconds": 5},
        "reconcile_seconds",
    ),
    Case(
        "PUT",
        "/api/v1/registry-dr-pairs/hub-dr",
        {"primary": "hub", "standby": "backup"},
        {"name": "other", "primary": "hub", "standby": "backup"},
        "name",
    ),
    Case("POST", "/api/v1/registry-dr-pairs/hub-dr:switch", {"to": "standby"}, {"to": "sideways"}, "to"),
    Case(
        "POST",
        "/api/v1/templates",
        {"name": "web", "workload": WORKLOAD},
        {"name": "web", "kind": "chart"},
        "chart",
        "developer",
    ),
    Case(
        "PUT",
        "/api/v1/templates/web",
        {"workload": WORKLOAD},
        {"name": "web", "workload": WORKLOAD},
        "name",
        "developer",
    ),
    Case("DELETE", "/api/v1/templates/web", None, {"name": "web"}, "name", "developer"),
    Case("POST", "/api/v1/releases/acme-web:abort", {"reason": "stop"}, {"reason": 1}, "reason", "developer"),
    Case(
        "POST",
        C + "/namespaces/web/workloads/api:scale",
        {"replicas": 3},
        {"replicas": -1},
        "replicas",
        "developer",
    ),
    Case(
        "POST",
        "/api/v1/configs",
        {"name": "app-cfg", **CONFIG, "restart": True},
        {"name": "app-cfg", **CONFIG, "data": {"bad key": "x"}},
        "data",
        "developer",
    ),
    Case("PUT", "/api/v1/configs/app-cfg", CONFIG, {**CONFIG, "kind": "Table"}, "kind", "developer"),
    Case(
        "POST",
        "/api/v1/configs/app-cfg:rollback",
        {"environment": "prod", "to_version": 1},
        {"environment": "prod", "to_version": "one"},
        "to_version",
        "developer",
    ),
    Case(
        "POST",
        "/api/v1/channels",
        {"name": "ops", "kind": "webhook", "url": "http://127.0.0.1:9/x"},
        {"name": "ops", "kind": "pager"},
        "kind",
    ),
    Case(
        "PUT",
        "/api/v1/channels/ops",
        {"kind": "webhook", "url": "http://127.0.0.1:9/y"},
        {"kind": "webhook", "name": "x"},
        "name",
    ),
    Case("DELETE", "/api/v1/channels/ops", None, {"name": "ops"}, "name"),
    Case(
        "POST", "/api/v1/alert-routes", {"name": "r1", "channels": ["ops"]}, {"name": "r1", "channels": []}, "channels"
    ),
    Case("PUT", "/api/v1/alert-routes/r1", {"channels": ["ops"]}, {"channels": ["ops"], "order": "first"}, "order"),
    Case("DELETE", "/api/v1/alert-routes/r1", None, {"name": "r1"}, "name"),
    Case("POST", "/api/v1/scaling-policies", {"name": "sp1", **POLICY}, {"name": "sp1", **POLICY, "step": 0}, "step"),
    Case("PUT", "/api/v1/scaling-policies/sp1", POLICY, {**POLICY, "cooldown_seconds": -5}, "cooldown_seconds"),
    Case("DELETE", "/api/v1/scaling-policies/sp1", None, {"name": "sp1"}, "name"),
    Case("POST", "/api/v1/silences/sil-1:expire", {"comment": "done"}, {"expire": False}, "expire", "developer"),
    Case("PUT", "/api/v1/dr-groups/shop", GROUP, {**GROUP, "name": "other"}, "name"),
    Case("DELETE", "/api/v1/dr-groups/shop", None, {"group": "other"}, "group"),
    Case("POST", "/api/v1/dr-groups/shop:resume", {"reason": "fixed the DNS"}, {}, "reason"),
    Case("POST", "/api/v1/dr-groups/shop:rollback", {"reason": "give up"}, {"reason": ""}, "reason"),
]

LESSER = {"platform-admin": "tenant-admin", "tenant-admin": "developer", "developer": "viewer"}


@pytest.fixture(scope="module")
async def users(stack: Stack) -> dict[str, str]:
    """Tokens: acme's tenant-admin, developer and viewer; globex's tenant-admin."""
    return {
        "tenant-admin": await stack.user_token("rr-admin", tenant="acme", role="tenant-admin"),
        "developer": await stack.user_token("rr-dev", tenant="acme", role="developer"),
        "viewer": await stack.user_token("rr-viewer", tenant="acme", role="viewer"),
        "globex": await stack.user_token("rr-globex", tenant="globex", role="tenant-admin"),
    }


def _token(users: dict[str, str], role: str) -> str | None:
    return None if role == "platform-admin" else users[role]  # None: the platform admin's token


def test_each_case_is_a_command_route() -> None:
    commands = [r for r in ROUTES if r.kind == "command"]
    for case in COMMANDS:
        assert any(r.method == case.method and _matches(r.path, case.path) for r in commands), case.id


def _matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\{\w+\\}", "[^/:]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


@pytest.mark.parametrize("case", COMMANDS, ids=[c.id for c in COMMANDS])
async def test_command_route(stack: Stack, users: dict[str, str], case: Case) -> None:
    path = case.path + ("&" if "?" in case.path else "?") + "tenant=acme"
    kw: dict[str, Any] = {"json": case.body} if case.body is not None else {}
    # happy path: 202 and an operation of this route's command
    status, body = await stack.call(case.method, path, token=_token(users, case.role), **kw)
    assert status == 202, body
    assert body["operation"]["state"] in ("pending", "running", "succeeded"), body
    assert body["operation"]["tenant"] == "acme"
    # a bad field is a 422 naming it
    status, body = await stack.call(case.method, path, token=_token(users, case.role), json=case.bad)
    assert status == 422, body
    assert any(e["field"].startswith(case.field) for e in body["errors"]), body
    # a lesser role (a viewer at most) is refused the mutation
    status, body = await stack.call(case.method, path, token=users[LESSER[case.role]], **kw)
    assert status == 403, body
    status, body = await stack.call(case.method, path, token=users["viewer"], **kw)
    assert status == 403, body
    # another tenant's admin cannot act in acme
    status, body = await stack.call(case.method, path, token=users["globex"], **kw)
    assert status == 403, body


async def _op_state(stack: Stack, op_id: str, *, state: str = "succeeded") -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(200):
        _, body = await stack.call("GET", f"/api/v1/operations/{op_id}")
        if body.get("state") == state:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"operation never reached {state}: {body}")


async def test_channel_lifecycle_on_the_real_monitor_alert(stack: Stack, users: dict[str, str]) -> None:
    admin = users["tenant-admin"]
    hook = {"kind": "webhook", "url": "http://127.0.0.1:9/hook"}
    status, body = await stack.call("POST", "/api/v1/channels?tenant=acme", token=admin, json={"name": "life", **hook})
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    status, channel = await stack.call("GET", "/api/v1/channels/life?tenant=acme", token=users["viewer"])
    assert status == 200 and channel["kind"] == "webhook", channel
    # replaced through PUT: the path names it
    status, body = await stack.call(
        "PUT", "/api/v1/channels/life?tenant=acme", token=admin, json={**hook, "max_attempts": 7}
    )
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    for _ in range(100):
        status, channel = await stack.call("GET", "/api/v1/channels/life?tenant=acme", token=admin)
        if channel.get("max_attempts") == 7:
            break
        await asyncio.sleep(0.05)
    assert channel["max_attempts"] == 7, channel
    # globex's channel of the same kind is not acme's to see
    status, body = await stack.call("POST", "/api/v1/channels?tenant=globex", json={"name": "globex-only", **hook})
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    status, _ = await stack.call("GET", "/api/v1/channels/globex-only?tenant=acme", token=admin)
    assert status == 404
    # a preview renders the stored channel's message
    status, preview = await stack.call(
        "POST", "/api/v1/channels:preview?tenant=acme", token=users["developer"], json={"name": "life"}
    )
    assert status == 200 and preview["parts"], preview
    status, body = await stack.call("POST", "/api/v1/channels:preview?tenant=acme", token=admin, json={"alerts": 1})
    assert status == 422 and body["errors"][0]["field"] == "alerts", body
    status, _ = await stack.call("POST", "/api/v1/channels:preview?tenant=acme", token=users["viewer"], json={})
    assert status == 403
    # deleted
    status, body = await stack.call("DELETE", "/api/v1/channels/life?tenant=acme", token=admin)
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    status, _ = await stack.call("GET", "/api/v1/channels/life?tenant=acme", token=admin)
    assert status == 404


async def test_routes_and_scaling_policies_are_read_back(stack: Stack, users: dict[str, str]) -> None:
    admin = users["tenant-admin"]
    status, body = await stack.call(
        "POST", "/api/v1/alert-routes?tenant=acme", token=admin, json={"name": "to-ops", "channels": ["ops"]}
    )
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    status, route = await stack.call("GET", "/api/v1/alert-routes/to-ops?tenant=acme", token=users["viewer"])
    assert status == 200 and route["channels"] == ["ops"], route
    status, _ = await stack.call("GET", "/api/v1/alert-routes/to-ops?tenant=globex", token=users["globex"])
    assert status == 404
    status, body = await stack.call(
        "POST", "/api/v1/scaling-policies?tenant=acme", token=admin, json={"name": "edge-up", **POLICY}
    )
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    status, policy = await stack.call("GET", "/api/v1/scaling-policies/edge-up?tenant=acme", token=users["viewer"])
    assert status == 200 and policy["name"] == "edge-up", policy
    status, _ = await stack.call("GET", "/api/v1/scaling-policies/edge-up?tenant=globex", token=users["globex"])
    assert status == 404


async def test_registry_dr_pair_status_and_isolation(stack: Stack, users: dict[str, str]) -> None:
    admin = users["tenant-admin"]
    for name, port in (("dr-hub", 5901), ("dr-backup", 5902)):
        status, body = await stack.call(
            "POST",
            "/api/v1/registries?tenant=acme",
            token=admin,
            json={"name": name, "url": f"http://127.0.0.1:{port}"},
        )
        assert status == 202, body
        await _op_state(stack, body["operation"]["id"])
    pair = {"name": "dr-pair", "primary": "dr-hub", "standby": "dr-backup"}
    status, body = await stack.call("POST", "/api/v1/registry-dr-pairs?tenant=acme", token=admin, json=pair)
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])  # confirmed by dr-status
    status, st = await stack.call("GET", "/api/v1/registry-dr-pairs/dr-pair?tenant=acme", token=users["viewer"])
    assert status == 200, st
    assert st["active"] == "primary" and st["pull_registry"] == "dr-hub" and "max_lag_seconds" in st
    status, _ = await stack.call("GET", "/api/v1/registry-dr-pairs/dr-pair?tenant=globex", token=users["globex"])
    assert status == 404


async def test_notifications_dead_letters_and_silences(stack: Stack, users: dict[str, str]) -> None:
    for path in ("/api/v1/notifications", "/api/v1/dead-letters"):
        status, page = await stack.call("GET", path + "?tenant=acme", token=users["viewer"])
        assert status == 200 and isinstance(page["items"], list), page
        assert all(i["tenant"] == "acme" for i in page["items"])
    status, body = await stack.call(
        "POST",
        "/api/v1/silences?tenant=acme",
        token=users["developer"],
        json={"id": "quiet-1", "matchers": ["alertname=Noise"], "duration_minutes": 60},
    )
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    status, silence = await stack.call("GET", "/api/v1/silences/quiet-1?tenant=acme", token=users["viewer"])
    assert status == 200 and silence["active"], silence
    status, _ = await stack.call("GET", "/api/v1/silences/quiet-1?tenant=globex", token=users["globex"])
    assert status == 404
    status, body = await stack.call("POST", "/api/v1/silences/quiet-1:expire?tenant=acme", token=users["developer"])
    assert status == 202, body
    await _op_state(stack, body["operation"]["id"])
    status, silence = await stack.call("GET", "/api/v1/silences/quiet-1?tenant=acme", token=users["viewer"])
    assert status == 200 and silence["expired"], silence


async def test_rule_pack_of_a_cluster_of_ones_own(stack: Stack, users: dict[str, str]) -> None:
    status, pack = await stack.call("GET", "/api/v1/rule-packs/acme-prod?tenant=acme", token=users["viewer"])
    assert status == 200, pack
    assert pack["cluster"] == "acme-prod" and "groups:" in pack["yaml"]
    # render-rules renders any name; the gateway first checks the cluster is the caller's
    status, _ = await stack.call("GET", "/api/v1/rule-packs/globex-prod?tenant=acme", token=users["viewer"])
    assert status == 404


async def test_tenant_limits(stack: Stack, users: dict[str, str]) -> None:
    status, limits = await stack.call("GET", "/api/v1/tenants/acme/limits", token=users["viewer"])
    assert status == 200 and limits["tenant"] == "acme" and "remaining" in limits, limits
    status, _ = await stack.call("GET", "/api/v1/tenants/acme/limits", token=users["globex"])
    assert status == 403
    status, body = await stack.call("GET", "/api/v1/tenants/acme/limits?tenant=globex", token=users["globex"])
    assert status == 422 and body["errors"][0]["field"] == "tenant", body


async def test_config_history_and_diff(stack: Stack, users: dict[str, str]) -> None:
    viewer = users["viewer"]
    status, history = await stack.call(
        "GET", "/api/v1/configs/app-cfg/history?tenant=acme&environment=prod", token=viewer
    )
    assert status == 200 and history["versions"][0]["version"] == 1, history
    status, diff = await stack.call("GET", "/api/v1/configs/app-cfg/diff?tenant=acme&from=1&to=2", token=viewer)
    assert status == 200 and (diff["from"], diff["to"]) == ("1", "2"), diff
    for path in ("/api/v1/configs/globex-cfg/history", "/api/v1/configs/globex-cfg/diff?from=1&to=2"):
        sep = "&" if "?" in path else "?"
        status, _ = await stack.call("GET", path + sep + "tenant=acme", token=viewer)
        assert status == 404, path


async def test_switch_history(stack: Stack, users: dict[str, str]) -> None:
    status, page = await stack.call("GET", "/api/v1/dr-groups/shop/switch-history?tenant=acme", token=users["viewer"])
    assert status == 200 and [e["id"] for e in page["items"]] == ["sw-1"], page
    # the stub answers every tenant's history; the gateway shows none of globex's
    status, page = await stack.call(
        "GET", "/api/v1/dr-groups/globex-shop/switch-history?tenant=acme", token=users["viewer"]
    )
    assert status == 200 and page["items"] == [], page


async def test_validate_a_creation_form(stack: Stack, users: dict[str, str]) -> None:
    status, reply = await stack.call(
        "POST", "/api/v1/clusters:validate?tenant=acme", token=users["viewer"], json={"spec": {"name": "c9"}}
    )
    assert status == 200 and reply["valid"] and reply["pod_capacity"] == 65536, reply
    status, body = await stack.call(
        "POST", "/api/v1/clusters:validate?tenant=acme", token=users["viewer"], json={"spec": "c9"}
    )
    assert status == 422 and body["errors"][0]["field"] == "spec", body
    status, reply = await stack.call(
        "POST", C + "/namespaces:validate?tenant=acme", token=users["viewer"], json={"namespace": {"name": "web"}}
    )
    assert status == 200 and reply["valid"], reply
    status, body = await stack.call(
        "POST", C + "/namespaces:validate?tenant=acme", token=users["viewer"], json={"name": "web"}
    )
    assert status == 422 and body["errors"][0]["field"] == "name", body
    status, _ = await stack.call("POST", "/api/v1/clusters:validate?tenant=acme", token=users["globex"], json={})
    assert status == 403


async def test_a_kubeconfig_carries_the_callers_identity_and_at_most_their_rights(
    stack: Stack, users: dict[str, str]
) -> None:
    path = C + "/kubeconfigs?tenant=acme"
    status, kc = await stack.call("POST", path, token=users["viewer"], json={"ttl_seconds": 3600})
    assert status == 201, kc
    assert (kc["user"], kc["role"]) == ("rr-viewer", "viewer")
    status, kc = await stack.call("POST", path, token=users["developer"], json={"role": "viewer"})
    assert status == 201 and (kc["user"], kc["role"]) == ("rr-dev", "viewer"), kc
    # more than one's own role, or someone else's identity: refused
    status, body = await stack.call("POST", path, token=users["developer"], json={"role": "tenant-admin"})
    assert status == 403, body
    status, body = await stack.call("POST", path, token=users["developer"], json={"user": "rr-admin"})
    assert status == 422 and body["errors"][0]["field"] == "user", body
    status, body = await stack.call("POST", path, token=users["developer"], json={"role": "god"})
    assert status == 422 and body["errors"][0]["field"] == "role", body
    status, _ = await stack.call("POST", path, token=users["globex"], json={})
    assert status == 403
    # rights granted in one namespace only: that namespace, named, and no wider
    ns_dev = await stack.user_token("rr-ns-dev", tenant="acme", role="developer", namespace="web")
    status, kc = await stack.call("POST", path, token=ns_dev, json={"role": "developer", "namespaces": ["web"]})
    assert status == 201 and kc["namespaces"] == ["web"], kc
    status, body = await stack.call("POST", path, token=ns_dev, json={})
    assert status == 422 and body["errors"][0]["field"] == "role", body
    status, _ = await stack.call("POST", path, token=ns_dev, json={"role": "developer", "namespaces": ["db"]})
    assert status == 403
    status, _ = await stack.call("POST", path, token=ns_dev, json={"role": "developer"})
    assert status == 403
    # who holds access: tenant-admins see acme's holders only
    status, page = await stack.call("GET", path, token=users["tenant-admin"])
    assert status == 200 and [r["user"] for r in page["items"]] == ["alice"], page
    status, _ = await stack.call("GET", path, token=users["developer"])
    assert status == 403
    revoke = C + "/kubeconfigs:revoke?tenant=acme"
    status, reply = await stack.call("POST", revoke, token=users["tenant-admin"], json={"user": "alice"})
    assert status == 200 and reply["revoked"], reply
    status, _ = await stack.call("POST", revoke, token=users["developer"], json={"user": "alice"})
    assert status == 403
    status, body = await stack.call("POST", revoke, token=users["tenant-admin"], json={"who": "alice"})
    assert status == 422 and body["errors"][0]["field"] == "who", body


async def test_the_cluster_admin_kubeconfig_is_for_platform_admins_and_released_to_them(
    stack: Stack, users: dict[str, str]
) -> None:
    path = C + "/kubeconfig?tenant=acme"
    for role in ("developer", "tenant-admin", "viewer"):
        status, _ = await stack.call("GET", path, token=users[role])
        assert status == 403, role
    status, reply = await stack.call("GET", path)
    assert status == 200 and "cluster-admin" in reply["kubeconfig"], reply
    assert stack.world.kubeconfig_requests[-1]["released_to"] == "admin"
