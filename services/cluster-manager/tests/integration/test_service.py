"""cluster-manager end to end: real NATS JetStream, a MemoryStore, local control planes.
Commands go in through the bus; facts, the timeline and queries come out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from berth_cluster_manager import kube
from berth_cluster_manager.app import app
from berth_cluster_manager.binaries import find
from berth_cluster_manager.bootstrap import bootstrap
from berth_cluster_manager.config import ClusterManagerSettings
from berth_cluster_manager.domain import parse_spec
from berth_cluster_manager.providers import Providers, local_procs
from berth_cluster_manager.providers.base import ClusterRef
from berth_cluster_manager.providers.hosted import HostedProvider
from berth_cluster_manager.providers.local import LocalProvider
from berth_common.bus import QueryError
from berth_common.events import Envelope
from berth_common.runtime.settings import ServiceSettings
from berth_common.store.memory import MemoryStore
from berth_schema.cluster import (
    CheckNodeQuota,
    ClusterAllocation,
    ClusterSpec,
    CompleteCaRotation,
    ControlPlaneHealth,
    CreateCluster,
    CreateNamespace,
    DeleteCluster,
    DeleteNamespace,
    GetCluster,
    GetKubeconfig,
    InstallAddon,
    NodeQuota,
    RetryCluster,
    SetQuota,
    SetTenantLimits,
    StartCaRotation,
    UninstallAddon,
    UpgradeCluster,
)
from berth_testkit.kube import KubeCluster
from berth_testkit.nats import NatsServer
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.config import new_client_from_config_dict
from pydantic import BaseModel


class Facts:
    def __init__(self) -> None:
        self.items: list[Envelope] = []

    def of(self, cluster: str, fact: str) -> list[Envelope]:
        """Facts ``berth.cluster.<fact>`` (e.g. ``running.v1``) about ``cluster``."""
        return [e for e in self.items if e.subject == f"clusters/{cluster}" and e.type == f"berth.cluster.{fact}"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cm")


@pytest.fixture(scope="module")
def local(data_dir: Path) -> LocalProvider:
    return LocalProvider(data_dir, ready_timeout=90)


@pytest.fixture(scope="module")
def hosted(kube_cluster: KubeCluster) -> HostedProvider:
    return HostedProvider(kube_cluster.api_client, ready_timeout=120)


@pytest.fixture(scope="module")
async def service(
    nats_server: NatsServer, local: LocalProvider, hosted: HostedProvider, data_dir: Path
) -> AsyncIterator[Facts]:
    svc = bootstrap(ClusterManagerSettings(), providers=Providers({"local": local, "hosted": hosted}))
    settings = ServiceSettings(nats_url=nats_server.url, data_dir=data_dir, http_port=0, log_json=False)
    await svc.start(settings, store=MemoryStore())
    facts = Facts()

    async def collect(msg: Any) -> None:
        facts.items.append(Envelope.from_json(msg.data))

    sub = await app.bus.nc.subscribe("berth.evt.cluster.>", cb=collect)
    sub2 = await app.bus.nc.subscribe("berth.cmd.node-manager.>", cb=collect)
    yield facts
    await sub.unsubscribe()
    await sub2.unsubscribe()
    await app.stop()


async def send(cmd: BaseModel, tenant: str = "t1") -> Envelope:
    return await app.bus.emit(cmd, tenant=tenant)


async def eventually(check: Callable[[], Awaitable[Any]] | Callable[[], Any], *, within: float = 90.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: Any = None
    while loop.time() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met in {within}s (last: {last!r})")


async def _remaining_is(n: int) -> bool:
    return bool((await query("list-namespaces", tenant="t1", cluster="e2e"))["remaining"] == n)


async def query(op: str, **payload: Any) -> dict[str, Any]:
    return await app.bus.request("cluster-manager", op, payload, timeout=20)


async def test_invalid_request_is_refused_field_by_field(service: Facts) -> None:
    # what the form's own rules refuse never makes a command (the schema model refuses it) ...
    check = await query(
        "validate-cluster",
        spec={"name": "Bad_Name", "version": "v1.11.7", "description": "x" * 61, "pod_cidr": "10.247.0.0/16"},
    )
    assert not check["valid"]
    assert {e["field"] for e in check["errors"]} == {"name", "version", "description", "pod_cidr"}
    # ... what only this service knows (its versions) refuses the command with a ClusterFailed fact
    env = await send(CreateCluster(spec=ClusterSpec(name="old-one", version="v1.11.7")))
    failed = await eventually(lambda: service.of("old-one", "failed.v1"))
    assert failed[0].causationid == env.id
    assert [e["field"] for e in failed[0].data["errors"]] == ["version"]
    assert (await query("list-clusters", tenant="t1"))["items"] == []
    check = await query("validate-cluster", spec={"name": "ok", "flavour": 200})
    assert check["valid"] and check["pod_capacity"] >= 200 * 110
    options = await query("cluster-options")
    assert options["providers"] == ["local", "hosted"] and options["default_provider"] == "hosted"


async def test_local_cluster_lifecycle_through_the_bus(service: Facts, local: LocalProvider) -> None:
    env = await send(CreateCluster(spec=ClusterSpec(name="e2e", provider="local", description="end to end")))
    running = await eventually(lambda: service.of("e2e", "running.v1"))
    assert running[0].correlationid == env.id
    steps = [(e.data["step"], e.data["result"]) for e in service.of("e2e", "step.v1")]
    assert [s for s, r in steps if r == "succeeded"] == [
        "issue-certificates",
        "provision-etcd",
        "provision-control-plane",
        "wait-control-plane-ready",
        "publish-kubeconfig",
    ]
    assert service.of("e2e", "requested.v1")

    detail = await query("get-cluster", tenant="t1", cluster="e2e")
    assert detail["phase"] == "Running" and detail["version"] == "v1.36.3"
    assert detail["timeline"][0]["step"] == "requested"
    assert detail["timeline"][-1]["step"] == "running"
    assert detail["control_plane"]["healthy"] is True
    assert detail["allocation"]["nodes"] == 0 and detail["network"]["pod_capacity"] == 8189
    assert detail["other"]["description"] == "end to end"
    typed = await app.bus.ask(GetCluster(tenant="t1", cluster="e2e"))  # the reply matches its schema
    assert isinstance(typed.control_plane, ControlPlaneHealth) and isinstance(typed.allocation, ClusterAllocation)
    assert (await app.bus.ask(GetKubeconfig(tenant="t1", cluster="e2e"))).kubeconfig

    kc = yaml.safe_load((await query("get-kubeconfig", tenant="t1", cluster="e2e"))["kubeconfig"])
    # node-manager is told how to reach the new cluster
    registered = [e for e in service.items if e.type == "berth.cmd.node-manager.register-cluster.v1"]
    # ...without the credentials in the stream: it asks get-kubeconfig (request/reply) instead
    assert registered and registered[0].data["kubeconfig"] == "" and kc["users"]
    assert registered[0].data["simulated"] is True
    api = await new_client_from_config_dict(kc)
    try:
        core = k8s.CoreV1Api(api)
        assert {"default", "kube-system"} <= {n.metadata.name for n in (await core.list_namespace()).items}

        # namespaces with quota, limits, isolation and node affinity
        await send(
            CreateNamespace(
                cluster="e2e",
                namespace={
                    "name": "team-a",
                    "description": "team A",
                    "quota": {"requests.cpu": "4", "pods": "20"},
                    "limits": {},
                    "isolated": True,
                    "node_selector": {"pool": "general"},
                },
            )
        )
        await eventually(lambda: service.of("e2e", "namespace-created.v1"))
        ns = await core.read_namespace("team-a")
        assert ns.metadata.annotations["scheduler.alpha.kubernetes.io/node-selector"] == "pool=general"
        quota = await core.read_namespaced_resource_quota("berth-quota", "team-a")
        assert quota.spec.hard == {"requests.cpu": "4", "pods": "20"}
        assert (await core.read_namespaced_limit_range("berth-limits", "team-a")).spec.limits
        assert await kube.get(api, "NetworkPolicy", "berth-default-deny", "team-a") is not None
        listing = await query("list-namespaces", tenant="t1", cluster="e2e")
        assert listing["remaining"] == 96 and listing["limit"] == 100  # 100 - default, kube-*, team-a
        team = next(i for i in listing["items"] if i["name"] == "team-a")
        assert team["isolated"] and team["description"] == "team A"

        await send(SetQuota(cluster="e2e", namespace="team-a", quota={"requests.cpu": "8"}, isolated=False))
        changed = await eventually(lambda: service.of("e2e", "quota-changed.v1"))
        assert changed[0].data["quota"]["hard"] == {"requests.cpu": "8"}
        assert (await core.read_namespaced_resource_quota("berth-quota", "team-a")).spec.hard == {"requests.cpu": "8"}
        assert await kube.get(api, "NetworkPolicy", "berth-default-deny", "team-a") is None

        await send(DeleteNamespace(cluster="e2e", namespace="team-a"))
        await eventually(lambda: service.of("e2e", "namespace-deleted.v1"))
        # the namespace controller finishes the deletion; then the count is back to the seed's 97
        await eventually(lambda: _remaining_is(97))
    finally:
        await api.close()

    # two-phase CA rotation: the cluster keeps answering with the re-issued admin kubeconfig
    await send(StartCaRotation(cluster="e2e"))
    started = await eventually(lambda: service.of("e2e", "ca-rotation-started.v1"))
    assert "admin" in started[0].data["certificates"]
    await send(CompleteCaRotation(cluster="e2e"))
    await eventually(lambda: service.of("e2e", "ca-rotation-completed.v1"))
    kc2 = yaml.safe_load((await query("get-kubeconfig", tenant="t1", cluster="e2e"))["kubeconfig"])
    assert (
        kc2["clusters"][0]["cluster"]["certificate-authority-data"]
        != kc["clusters"][0]["cluster"]["certificate-authority-data"]
    )
    reg = [
        e
        for e in service.items
        if e.type == "berth.cmd.node-manager.register-cluster.v1" and e.data["cluster"] == "e2e"
    ]
    assert len(reg) == 3 and kc2 != kc  # created, rotation start, complete: node-manager re-reads each time
    api = await new_client_from_config_dict(kc2)
    try:
        assert (await k8s.CoreV1Api(api).list_namespace()).items
    finally:
        await api.close()

    await send(DeleteCluster(cluster="e2e"))
    await eventually(lambda: service.of("e2e", "deleted.v1"))
    with pytest.raises(Exception, match="not found"):
        await query("get-cluster", tenant="t1", cluster="e2e")
    assert not (local.data_dir / "clusters" / "t1" / "e2e").exists()


async def test_failed_step_retry_resumes_then_upgrade_walks_the_order(
    service: Facts, local: LocalProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # v1.35.2 binaries are not installed: provisioning fails at etcd (etcd 3.6.5 missing)
    await send(CreateCluster(spec=ClusterSpec(name="old", provider="local", version="v1.35.2")), tenant="t2")
    failed = await eventually(lambda: service.of("old", "failed.v1"))
    assert failed[0].data["step"] == "provision-etcd" and "etcd v3.6.5 not found" in failed[0].data["reason"]
    detail = await query("get-cluster", tenant="t2", cluster="old")
    assert detail["phase"] == "Failed" and detail["failure"]["step"] == "provision-etcd"

    # install "etcd" and retry: it resumes at provision-etcd and fails at the next missing part
    monkeypatch.setenv("BERTH_BIN_ETCD", find("etcd", kube_version="v1.36.3"))
    await send(RetryCluster(cluster="old"), tenant="t2")
    await eventually(lambda: len(service.of("old", "failed.v1")) == 2)
    assert service.of("old", "failed.v1")[1].data["step"] == "provision-control-plane"
    # the etcd this attempt started does not outlive the failure; the retry starts it again
    assert local_procs.pids_under(local.data_dir / "clusters" / "t2" / "old") == []
    started = [e.data["step"] for e in service.of("old", "step.v1") if e.data["result"] == "started"]
    assert started == ["issue-certificates", "provision-etcd", "provision-etcd", "provision-control-plane"]

    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        monkeypatch.setenv("BERTH_BIN_" + name.upper().replace("-", "_"), find(name, kube_version="v1.36.3"))
    await send(RetryCluster(cluster="old"), tenant="t2")
    await eventually(lambda: service.of("old", "running.v1"))

    # upgrades go one minor at a time and never down
    await send(UpgradeCluster(cluster="old", version="v1.34.3"), tenant="t2")
    refused = await eventually(lambda: len(service.of("old", "failed.v1")) == 3 and service.of("old", "failed.v1"))
    assert "downgrades are not allowed" in refused[2].data["reason"]
    await send(UpgradeCluster(cluster="old", version="v1.36.3"), tenant="t2")
    upgraded = await eventually(lambda: service.of("old", "upgraded.v1"))
    assert upgraded[0].data["version"] == "v1.36.3"
    upgrade_steps = [
        e.data["step"]
        for e in service.of("old", "step.v1")
        if e.data["operation"] == "upgrade" and e.data["result"] == "succeeded"
    ]
    assert upgrade_steps == [
        "upgrade-etcd",
        "upgrade-kube-apiserver",
        "upgrade-controller-manager-scheduler",
        "upgrade-node-pools",
    ]
    pools = [e for e in service.items if e.type == "berth.cmd.node-manager.upgrade-pools.v1"]
    assert [p.data for p in pools] == [{"cluster": "old", "tenant": "t2", "version": "v1.36.3"}]
    assert (await query("get-cluster", tenant="t2", cluster="old"))["basic"]["upgrades_to"] == []

    await send(DeleteCluster(cluster="old"), tenant="t2")
    await eventually(lambda: service.of("old", "deleted.v1"))


async def test_tenant_cluster_limit(service: Facts) -> None:
    await send(SetTenantLimits(clusters=0), tenant="t3")
    await eventually(
        lambda: [e for e in service.items if e.type == "berth.cluster.quota-changed.v1" and e.tenant == "t3"]
    )
    assert (await query("tenant-limits", tenant="t3"))["remaining"]["clusters"] == 0
    await send(CreateCluster(spec=ClusterSpec(name="over", provider="local")), tenant="t3")
    failed = await eventually(lambda: service.of("over", "failed.v1"))
    assert "clusters: tenant limit of 0 reached" in failed[0].data["reason"]
    assert json.dumps(failed[0].data)  # serialisable


async def test_addons_install_with_helm_into_the_tenant_cluster(service: Facts) -> None:
    await send(CreateCluster(spec=ClusterSpec(name="addons", provider="local")), tenant="t4")
    await eventually(lambda: service.of("addons", "running.v1"))
    for name in ("coredns", "metrics-server", "ingress-nginx", "monitoring-agent"):
        await send(InstallAddon(cluster="addons", addon=name), tenant="t4")
    await send(InstallAddon(cluster="addons", addon="dashboard"), tenant="t4")
    installed = await eventually(lambda: len(service.of("addons", "addon-installed.v1")) == 4, within=240)
    assert installed
    refused = await eventually(lambda: service.of("addons", "failed.v1"))
    assert "addon: 'dashboard' is not one of" in refused[0].data["reason"]
    listing = {a["name"]: a for a in (await query("list-addons", tenant="t4", cluster="addons"))["items"]}
    assert all(a["status"] == "installed" for a in listing.values()), listing
    assert await query("get-addon", tenant="t4", cluster="addons", addon="coredns") == listing["coredns"]
    with pytest.raises(QueryError, match="addon dashboard not found") as unknown:
        await query("get-addon", tenant="t4", cluster="addons", addon="dashboard")
    assert unknown.value.code == 404

    kc = yaml.safe_load((await query("get-kubeconfig", tenant="t4", cluster="addons"))["kubeconfig"])
    api = await new_client_from_config_dict(kc)
    try:
        dns = await kube.get(api, "Service", "kube-dns", "kube-system")
        assert dns is not None and dns["spec"]["clusterIP"] == "10.247.0.10"  # from the cluster's service CIDR
        coredns = await kube.get(api, "Deployment", "coredns", "kube-system")
        assert coredns is not None and coredns["spec"]["replicas"] == 2
        assert await kube.get(api, "Deployment", "ingress-nginx-controller", "ingress-nginx") is not None
        assert await kube.get(api, "Deployment", "kube-state-metrics", "berth-monitoring") is not None
    finally:
        await api.close()

    await send(UninstallAddon(cluster="addons", addon="ingress-nginx"), tenant="t4")
    await eventually(lambda: await_status("t4", "addons", "ingress-nginx"))
    detail = await query("get-cluster", tenant="t4", cluster="addons")
    assert detail["addons"]["ingress-nginx"]["status"] == "uninstalled"
    assert any(e["step"] == "addon-coredns" and e["result"] == "succeeded" for e in detail["timeline"])
    await send(DeleteCluster(cluster="addons"), tenant="t4")
    await eventually(lambda: service.of("addons", "deleted.v1"))


async def await_status(tenant: str, cluster: str, addon: str) -> bool:
    items = (await query("list-addons", tenant=tenant, cluster=cluster))["items"]
    return any(a["name"] == addon and a["status"] == "uninstalled" for a in items)


async def test_nodes_reported_by_node_manager_count_against_the_tenant_limit(service: Facts) -> None:
    from berth_schema.node import NodeAdded, NodeRemoved

    await send(SetTenantLimits(nodes=5), tenant="t5")
    for node in ("n1", "n2", "n1"):  # a duplicate report counts once
        await send(NodeAdded(cluster="c1", tenant="t5", pool="default", node=node), tenant="t5")
    await send(NodeAdded(cluster="c1", tenant="t5", pool="default", node="n3"), tenant="t5")
    await send(NodeRemoved(cluster="c1", tenant="t5", pool="default", node="n3", reason="scale-in"), tenant="t5")

    async def usage() -> dict[str, Any] | None:
        got = await query("tenant-limits", tenant="t5")
        return got if got["usage"]["nodes"] == 2 and got["limits"]["nodes"] == 5 else None

    got = await eventually(usage, within=30)
    assert got["remaining"]["nodes"] == 3
    # what node-manager asks before it adds nodes
    fits = await app.bus.ask(CheckNodeQuota(tenant="t5", cluster="c1", adding=3))
    assert isinstance(fits, NodeQuota) and fits.allowed and (fits.limit, fits.used) == (5, 2)
    over = await app.bus.ask(CheckNodeQuota(tenant="t5", cluster="c1", adding=4))
    assert not over.allowed and "nodes: tenant limit of 5" in over.reason
    with pytest.raises(QueryError, match="adding") as bad:
        await query("check-node-quota", tenant="t5", cluster="c1", adding=0)
    assert bad.value.code == 400


async def test_hosted_cluster_through_the_bus_goes_running_and_deletes_clean(
    service: Facts, kube_cluster: KubeCluster, hosted: HostedProvider
) -> None:
    await send(CreateCluster(spec=ClusterSpec(name="hosted1", provider="hosted", ha=True)), tenant="t6")
    await eventually(lambda: service.of("hosted1", "running.v1"), within=180)
    detail = await query("get-cluster", tenant="t6", cluster="hosted1")
    assert detail["control_plane"]["healthy"] is True
    assert set(detail["control_plane"]["components"]) == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    }
    # the tenant API server runs as kwok-faked pods: the detail says so instead of failing
    assert "error" in detail["allocation"]
    registered = [
        e
        for e in service.items
        if e.type == "berth.cmd.node-manager.register-cluster.v1" and e.data["cluster"] == "hosted1"
    ]
    assert registered and registered[0].data["simulated"] is False
    await send(DeleteCluster(cluster="hosted1"), tenant="t6")
    await eventually(lambda: service.of("hosted1", "deleted.v1"), within=180)
    async with kube_cluster.client() as api:
        ref = ClusterRef(tenant="t6", name="hosted1", spec=parse_spec({"name": "hosted1"}))
        assert await hosted.leftovers(api, ref) == []
