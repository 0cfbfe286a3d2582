"""STUB services for the gateway tests.

cluster-manager and release-orchestrator have no messages/queries in the repository
yet, so these stand-ins answer on the real bus
(real NATS, real JetStream) under the services' names with a test-only message
registry. They deliberately IGNORE the tenant in queries and return every tenant's
items, so the isolation tests prove the gateway itself never leaks another tenant's data.
Replace each with the real service (`app.start(settings, store=...)`) once it lands.
"""

from __future__ import annotations

from typing import Any

from berth_common.bus import Bus, Context, QueryError
from berth_common.events import Registry
from berth_common.events.registry import MessageSpec
from pydantic import BaseModel, ConfigDict


class _Cmd(BaseModel):
    model_config = ConfigDict(extra="allow")
    tenant: str
    requested_by: str = ""


class CreateCluster(_Cmd):
    name: str
    version: str
    provider: str = "local"
    network: dict[str, Any] = {}


class DeleteCluster(_Cmd):
    cluster: str


class UpgradeCluster(_Cmd):
    cluster: str
    version: str


class ClusterFact(BaseModel):
    model_config = ConfigDict(extra="allow")
    cluster: str


def stub_registry() -> Registry:
    """The real message registry (every service's messages module) plus the stubs' types."""
    import berth_monitor_alert.messages  # noqa: F401
    import berth_registry_sync.messages  # noqa: F401
    from berth_common.events import registry as real

    reg = Registry()
    for spec in real:
        reg.register(spec)
    for type_, subject, model in [
        ("berth.cmd.cluster-manager.create.v1", "berth.cmd.cluster-manager.create", CreateCluster),
        ("berth.cmd.cluster-manager.delete.v1", "berth.cmd.cluster-manager.delete", DeleteCluster),
        ("berth.cmd.cluster-manager.upgrade.v1", "berth.cmd.cluster-manager.upgrade", UpgradeCluster),
    ]:
        if type_ not in reg:
            reg.register(MessageSpec(type_, "command", subject, model, ""))
    for name in ("requested", "step", "running", "failed", "deleted", "upgraded"):
        model = type(f"Cluster_{name.title()}", (ClusterFact,), {})
        if f"berth.cluster.{name}.v1" not in reg:
            reg.register(MessageSpec(f"berth.cluster.{name}.v1", "event", f"berth.evt.cluster.{name}", model, ""))
    return reg


def _find(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    for item in items:
        if item.get(key) == value:
            return item
    raise QueryError(404, f"{value} not found")


class StubWorld:
    """Data of two tenants (acme, globex) across the stubbed services."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.clusters: list[dict[str, Any]] = [
            {"name": "acme-prod", "tenant": "acme", "status": "Running", "version": "v1.31.0"},
            {"name": "globex-prod", "tenant": "globex", "status": "Running", "version": "v1.31.0"},
        ]
        self.fail_next_create = False
        self.buses: list[Bus] = []

    def collection(self, tenant_items: dict[str, list[str]], key: str) -> list[dict[str, Any]]:
        return [{key: n, "tenant": t} for t, names in tenant_items.items() for n in names]

    def build(self) -> list[Bus]:
        reg = self.registry
        cm = Bus(service="cluster-manager", registry=reg)
        fact = {n: reg.spec_for_type(f"berth.cluster.{n}.v1").model for n in ("requested", "step", "running")}

        @cm.query("list-clusters")
        async def list_clusters(req: dict[str, Any]) -> dict[str, Any]:
            return {"items": list(self.clusters)}

        @cm.query("get-cluster")
        async def get_cluster(req: dict[str, Any]) -> dict[str, Any]:
            return _find(self.clusters, "name", req["cluster"])

        @cm.handler(CreateCluster, name="stub-create", max_deliver=1)
        async def create(cmd: CreateCluster, ctx: Context) -> None:
            if any(c["name"] == cmd.name for c in self.clusters):
                return
            item = {
                "name": cmd.name,
                "tenant": cmd.tenant,
                "status": "Creating",
                "version": cmd.version,
                "network": cmd.network,
            }
            self.clusters.append(item)
            attrs = ctx.caused(subject=f"clusters/{cmd.name}")
            tenant = attrs.pop("tenant")
            await cm.emit(fact["requested"](cluster=cmd.name), tenant=tenant, **attrs)
            await cm.emit(fact["step"](cluster=cmd.name, step="control-plane", result="ok"), tenant=tenant, **attrs)
            item["status"] = "Running"
            await cm.emit(fact["running"](cluster=cmd.name), tenant=tenant, **attrs)

        ro = Bus(service="release-orchestrator", registry=reg)
        releases = self.collection({"acme": ["acme-web"], "globex": ["globex-web"]}, "name")

        @ro.query("list-releases")
        async def list_releases(req: dict[str, Any]) -> dict[str, Any]:
            return {"items": releases}

        @ro.query("get-release")
        async def get_release(req: dict[str, Any]) -> dict[str, Any]:
            return _find(releases, "name", req["release"])

        self.buses = [cm, ro]
        return self.buses
