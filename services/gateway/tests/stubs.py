"""STUB services for the gateway's fast suite.

cluster-manager, release-orchestrator, node-manager and dr-switcher queries are stood in for by these
(the real services are tested in their own suites and in tests/e2e), answering on the real bus
(real NATS, real JetStream) under the services' names and speaking their real message models.
Their queries deliberately IGNORE the tenant and return every tenant's items, so the isolation
tests prove the gateway itself never leaks another tenant's data.
"""

from __future__ import annotations

from typing import Any

import berth_schema
import berth_schema.cluster as cm_msgs
from berth_common.bus import Bus, Context, Poison, QueryError
from berth_common.events import Registry
from berth_common.events import registry as real_registry

_ = berth_schema.DOMAINS  # importing the schema registers every command


def stub_registry() -> Registry:
    """The real message registry, from the schema package, without the typed queries: the stubs
    answer queries with bare dicts (as partial as each test needs)."""
    reg = Registry()
    for spec in real_registry:
        reg.register(spec)
    return reg


def gateway_registry() -> Registry:
    """What the gateway runs with in production: every command and every typed query (the bodies
    of its call routes come from the typed query requests)."""
    reg = stub_registry()
    for query in real_registry.queries():
        reg.register_query(query)
    return reg


def _page(items: list[dict[str, Any]], req: dict[str, Any], key: str = "name") -> dict[str, Any]:
    """One page as a service answers it: sorted by ``key``, after ``after``, at most ``limit``."""
    rows = sorted(items, key=lambda i: str(i.get(key, "")))
    if req.get("after"):
        rows = [i for i in rows if str(i.get(key, "")) > req["after"]]
    return {"items": rows[: int(req.get("limit") or 100)]}


def _find(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    for item in items:
        if item.get(key) == value:
            return item
    raise QueryError(404, f"{value} not found")


class StubWorld:
    """Data of two tenants (acme, globex) in the stubbed services."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.clusters: list[dict[str, Any]] = [
            {"name": "acme-prod", "tenant": "acme", "phase": "Running", "version": "v1.31.0"},
            {"name": "globex-prod", "tenant": "globex", "phase": "Running", "version": "v1.31.0"},
        ]
        self.buses: list[Bus] = []
        self.create_commands: list[tuple[str, str]] = []  # (tenant, cluster) of every create handled
        self.validations: list[dict[str, Any]] = []  # validate-cluster / validate-namespace requests

    def build(self) -> list[Bus]:
        cm = Bus(service="cluster-manager", registry=self.registry)

        @cm.query("list-clusters")
        async def list_clusters(req: dict[str, Any]) -> dict[str, Any]:
            return _page(self.clusters, req)

        @cm.query("get-cluster")
        async def get_cluster(req: dict[str, Any]) -> dict[str, Any]:
            return _find(self.clusters, "name", req["cluster"])

        self.join_tokens = {"acme-prod": [{"token_id": "abcdef", "expires": "2026-01-02T00:00:00+00:00"}]}

        @cm.query("list-join-tokens")
        async def list_join_tokens(req: dict[str, Any]) -> dict[str, Any]:
            return _page(self.join_tokens.get(req["cluster"], []), req, "token_id")

        @cm.query("revoke-join-token")
        async def revoke_join_token(req: dict[str, Any]) -> dict[str, Any]:
            tokens = self.join_tokens.get(req["cluster"], [])
            if not any(t["token_id"] == req["token_id"] for t in tokens):
                raise QueryError(404, f"join token {req['token_id']} not found in cluster {req['cluster']}")
            self.join_tokens[req["cluster"]] = [t for t in tokens if t["token_id"] != req["token_id"]]
            return {"cluster": req["cluster"], "token_id": req["token_id"], "revoked": True}

        @cm.handler(cm_msgs.CreateCluster, name="stub-create", max_deliver=1)
        async def create(cmd: cm_msgs.CreateCluster, ctx: Context) -> None:
            spec = cmd.spec if isinstance(cmd.spec, dict) else cmd.spec.model_dump(mode="json")
            name = str(spec["name"])
            self.create_commands.append((ctx.envelope.tenant, name))
            if any(c["name"] == name and c["tenant"] == ctx.envelope.tenant for c in self.clusters):
                return
            item = {
                "name": name,
                "tenant": ctx.envelope.tenant,
                "phase": "Provisioning",
                "version": spec.get("version") or "v1.31.0",
                "provider": spec.get("provider") or "hosted",
                "network": {k: spec.get(k) for k in ("network_model", "pod_cidr", "service_cidr", "vpc_cidr")},
            }
            self.clusters.append(item)
            attrs = ctx.caused(subject=f"clusters/{name}")
            tenant = attrs.pop("tenant")
            common = {"cluster": name, "version": item["version"], "provider": item["provider"]}
            await cm.emit(cm_msgs.ClusterRequested(**common, spec=spec), tenant=tenant, **attrs)
            step = cm_msgs.ClusterStep(cluster=name, operation="create", step="control-plane", result="succeeded")
            await cm.emit(step, tenant=tenant, **attrs)
            item["timeline"] = [
                {
                    "time": "2026-01-01T00:00:00Z",
                    "step": "control-plane",
                    "result": "succeeded",
                    "title": "Install control plane",
                }
            ]
            item["phase"] = "Running"
            await cm.emit(cm_msgs.ClusterRunning(**common), tenant=tenant, **attrs)

        @cm.handler(cm_msgs.UpgradeCluster, name="stub-upgrade", max_deliver=1)
        async def upgrade(cmd: cm_msgs.UpgradeCluster, ctx: Context) -> None:
            # every upgrade is refused: the command is dead-lettered with this reason
            raise Poison(f"version {cmd.version} is not supported by this stub")

        self.namespaces = [{"name": f"ns-{i}", "tenant": "acme"} for i in range(3)]

        @cm.query("list-namespaces")
        async def list_namespaces(req: dict[str, Any]) -> dict[str, Any]:
            return {**_page(self.namespaces, req), "remaining": 97, "limit": 100}

        @cm.query("validate-cluster")
        async def validate_cluster(req: dict[str, Any]) -> dict[str, Any]:
            self.validations.append(req)
            return {"valid": True, "errors": [], "spec": req.get("spec"), "pod_capacity": 65536}

        @cm.query("validate-namespace")
        async def validate_namespace(req: dict[str, Any]) -> dict[str, Any]:
            self.validations.append(req)
            return {"valid": True, "errors": [], "namespace": req.get("namespace")}

        @cm.query("tenant-limits")
        async def tenant_limits(req: dict[str, Any]) -> dict[str, Any]:
            counts = {"clusters": 1, "nodes": 0, "namespaces_per_cluster": 3}
            return {"tenant": req["tenant"], "limits": counts, "usage": counts, "remaining": counts}

        self.kubeconfig_requests: list[dict[str, Any]] = []
        self.access = [
            {"user": "alice", "tenant": "acme", "role": "developer", "service_account": "berth-access/alice"},
            {"user": "gina", "tenant": "globex", "role": "viewer", "service_account": "berth-access/gina"},
        ]

        @cm.query("issue-user-kubeconfig")
        async def issue_user_kubeconfig(req: dict[str, Any]) -> dict[str, Any]:
            self.kubeconfig_requests.append(req)
            keep = ("cluster", "user", "role", "namespaces")
            return {**{k: req.get(k) for k in keep}, "kubeconfig": "apiVersion: v1\nkind: Config\n"}

        @cm.query("get-kubeconfig")
        async def get_kubeconfig(req: dict[str, Any]) -> dict[str, Any]:
            self.kubeconfig_requests.append(req)
            return {"cluster": req["cluster"], "kubeconfig": "apiVersion: v1\nkind: Config\n# cluster-admin\n"}

        @cm.query("list-user-kubeconfigs")
        async def list_user_kubeconfigs(req: dict[str, Any]) -> dict[str, Any]:
            return _page(self.access, req, "service_account")

        @cm.query("revoke-user-kubeconfig")
        async def revoke_user_kubeconfig(req: dict[str, Any]) -> dict[str, Any]:
            return {"cluster": req["cluster"], "user": req["user"], "service_account": "x", "revoked": True}

        ro = Bus(service="release-orchestrator", registry=self.registry)
        configs = {
            "app-cfg": {"name": "app-cfg", "tenant": "acme", "environment": "prod"},
            "globex-cfg": {"name": "globex-cfg", "tenant": "globex", "environment": "prod"},
        }

        @ro.query("config-history")
        async def config_history(req: dict[str, Any]) -> dict[str, Any]:
            found = _find(list(configs.values()), "name", req["config"])
            version = {"version": 1, "at": "2026-01-01T00:00:00Z", "by": "alice", "data": {"a": "1"}}
            return {**found, "versions": [version]}

        @ro.query("config-diff")
        async def config_diff(req: dict[str, Any]) -> dict[str, Any]:
            found = _find(list(configs.values()), "name", req["config"])
            return {**found, "from": req["from"], "to": req["to"], "changes": []}

        releases = [
            {
                "name": "acme-web",
                "tenant": "acme",
                "cluster": "acme-prod",
                "namespace": "web",
                "strategy": "canary",
                "phase": "paused",
                "step": "2/4",
                "weight": 20,
                "image": "registry.acme/web:2.0",
                "revision": 2,
            },
            {"name": "globex-web", "tenant": "globex"},
        ]

        @ro.query("list-releases")
        async def list_releases(req: dict[str, Any]) -> dict[str, Any]:
            return _page(releases, req)

        @ro.query("get-release")
        async def get_release(req: dict[str, Any]) -> dict[str, Any]:
            return _find(releases, "name", req["release"])

        nm = Bus(service="node-manager", registry=self.registry)
        self.join_requests: list[dict[str, Any]] = []

        @nm.query("join-command")
        async def join_command(req: dict[str, Any]) -> dict[str, Any]:
            self.join_requests.append(req)
            if req["pool"] != "edge":
                raise QueryError(404, f"node pool {req['pool']} not found in cluster {req['cluster']}")
            return {
                "cluster": req["cluster"],
                "pool": "edge",
                "token_id": "abcdef",
                "token": "abcdef.0123456789abcdef",
                "expires": "2026-01-02T00:00:00+00:00",
                "command": "berth node join --server https://127.0.0.1:6443 --token abcdef.0123456789abcdef",
            }

        pools = [
            {
                "name": "edge",
                "tenant": "acme",
                "count": 0,
                "zone": "zone-a",
                "role": "ingress",
                "flavour": {"cpu": 4, "memory_gib": 8},
            },
        ]

        @nm.query("list-pools")
        async def list_pools(req: dict[str, Any]) -> dict[str, Any]:
            return _page(pools, req)

        dr = Bus(service="dr-switcher", registry=self.registry)
        groups = [
            {
                "name": "shop",
                "tenant": "acme",
                "state": "primary-active",
                "active": "beijing",
                "primary": {"name": "beijing", "healthy": True},
                "standby": {"name": "shanghai", "healthy": True},
                "mode": ["dns"],
                "since": "2026-01-01T00:00:00Z",
                "reason": "created",
            },
            {"name": "globex-shop", "tenant": "globex"},
        ]

        @dr.query("list-groups")
        async def list_groups(req: dict[str, Any]) -> dict[str, Any]:
            return _page(groups, req)

        history = {
            "shop": [{"id": "sw-1", "tenant": "acme", "kind": "drill"}],
            "globex-shop": [{"id": "sw-9", "tenant": "globex", "kind": "switchover"}],
        }

        @dr.query("switch-history")
        async def switch_history(req: dict[str, Any]) -> dict[str, Any]:
            return _page(history.get(req["group"], []), req, "id")

        self.buses = [cm, ro, nm, dr]
        return self.buses
