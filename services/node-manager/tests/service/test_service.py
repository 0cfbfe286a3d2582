"""node-manager end to end: real NATS, a real Kubernetes control plane with kwok; commands in,
facts and queries out."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml
from berth_common.bus import QueryError
from berth_common.events import Envelope
from berth_common.store.memory import MemoryStore
from berth_node_manager import loops
from berth_node_manager.app import app
from berth_node_manager.bootstrap import bootstrap
from berth_node_manager.domain.clock import FakeClock, SystemClock
from berth_node_manager.operations import ClusterOps
from berth_node_manager.quota import QuotaRefused
from berth_node_manager.settings import NodeManagerSettings
from berth_node_manager.state import CLUSTERS, load_pool
from berth_schema.node import (
    AddNode,
    Cordon,
    CreatePool,
    Drain,
    RegisterCluster,
    RemoveNode,
    ScalePool,
    SetLabels,
    SetTaints,
    Uncordon,
    UpgradePools,
)
from berth_schema.node.labels import CLUSTER_LABEL, Taint
from berth_testkit.kube import KubeCluster
from berth_testkit.nats import NatsServer
from kubernetes_asyncio import client as k8s

from .support import deployment, eventually

TENANT = "t1"


class Quota:
    """The tenant node limit as cluster-manager would answer it; unlimited unless a test sets one."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.asked: list[tuple[str, str, int]] = []

    async def ensure(self, *, tenant: str, cluster: str, adding: int, field: str) -> None:
        self.asked.append((tenant, cluster, adding))
        if self.limit is not None and adding > self.limit:
            raise QuotaRefused(f"{field}: adding {adding} node(s) is refused: the tenant node limit is {self.limit}")


class Facts:
    def __init__(self, clock: FakeClock, quota: Quota) -> None:
        self.seen: list[Envelope] = []
        self.clock = clock
        self.quota = quota

    def of(self, name: str, **match: Any) -> list[Envelope]:
        return [
            e
            for e in self.seen
            if e.type == f"berth.node.{name}.v1" and all(e.data.get(k) == v for k, v in match.items())
        ]

    async def wait(self, name: str, *, within: float = 60.0, **match: Any) -> Envelope:
        found: list[Envelope] = await eventually(
            lambda: _now(self.of(name, **match)), within=within, what=f"a {name} fact matching {match}"
        )
        return found[0]


async def _now(value: list[Envelope]) -> list[Envelope]:
    return value


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def service(
    nats_server: NatsServer, kube_cluster: KubeCluster, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Facts]:
    settings = NodeManagerSettings(
        nats_url=nats_server.url,
        data_dir=tmp_path_factory.mktemp("nm"),
        http_port=0,
        log_json=False,
        node_manager_loop_seconds=3600,  # the tests run the loop steps themselves
    )
    clock, quota = FakeClock(SystemClock().now()), Quota()
    assert bootstrap(settings, clock=clock, quota=quota) is app
    await app.start(settings, store=MemoryStore())
    facts = Facts(clock, quota)

    async def follow() -> None:
        async for _, env in app.bus.events(subjects=["berth.evt.node.>"]):
            facts.seen.append(env)

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.5)
    yield facts
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await app.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def cluster(service: Facts, kube_cluster: KubeCluster) -> AsyncIterator[str]:
    name = f"svc{uuid.uuid4().hex[:6]}"
    await app.bus.emit(
        RegisterCluster(
            cluster=name,
            tenant=TENANT,
            kubeconfig=yaml.safe_dump(kube_cluster.api.kubeconfig_dict()),
            node_cidr="10.88.0.0/16",
        ),
        tenant=TENANT,
    )
    await service.wait("cluster-registered", cluster=name)
    yield name
    async with kube_cluster.client() as api:
        await k8s.CoreV1Api(api).delete_collection_node(label_selector=f"{CLUSTER_LABEL}={name}")


async def send(cmd: Any) -> Envelope:
    return await app.bus.emit(cmd, tenant=TENANT)


async def test_pools_nodes_labels_taints_cordon_drain_through_the_bus(service: Facts, cluster: str) -> None:
    created = await send(
        CreatePool.model_validate(
            {
                "cluster": cluster,
                "tenant": TENANT,
                "name": "web",
                "flavor": "2c4g",
                "size": 2,
                "min_size": 1,
                "max_size": 4,
                "labels": {"app-tier": "web"},
            }
        )
    )
    pool_fact = await service.wait("pool-created", cluster=cluster, pool="web")
    assert pool_fact.correlationid == created.id and pool_fact.data["flavour"] == "2c4g"
    await eventually(lambda: _count(service.of("added", cluster=cluster, pool="web"), 2), what="2 added facts")

    pools = await app.bus.request("node-manager", "list-pools", {"cluster": cluster, "tenant": TENANT})
    assert [(p["name"], p["count"], p["autoscaling"]["max_count"]) for p in pools["items"]] == [("web", 2, 4)]
    rows = (await app.bus.request("node-manager", "list-nodes", {"cluster": cluster, "pool": "web"}))["items"]
    assert len(rows) == 2
    for row in rows:
        assert (row["status"], row["pool"], row["flavour"], row["source"]) == ("Ready", "web", "2c4g", "created")
        assert row["private_ip"].startswith("10.88.") and row["zone"] == "zone-a"
        assert row["allocatable_cpu"] == 1.93
    names = sorted(r["name"] for r in rows)

    await send(ScalePool(cluster=cluster, tenant=TENANT, pool="web", delta=1, reason="cpu alert"))
    scaled = await service.wait("pool-scaled", cluster=cluster, pool="web")
    assert (scaled.data["before"], scaled.data["after"]) == (2, 3) and "cpu alert" in scaled.data["reason"]
    await send(ScalePool.model_validate({"cluster": cluster, "tenant": TENANT, "pool": "web", "size": 9}))
    clamped = await service.wait("pool-scaled", cluster=cluster, pool="web", before=3)
    assert clamped.data["after"] == 4 and "clamped 9 to bounds 1..4" in clamped.data["reason"]

    await send(SetLabels(cluster=cluster, tenant=TENANT, nodes=names, set={"rack": "r7"}))
    await service.wait("labels-set", cluster=cluster)
    await send(SetTaints(cluster=cluster, tenant=TENANT, nodes=names, add=[Taint(key="dedicated", value="web")]))
    await service.wait("taints-set", cluster=cluster)
    node = await app.bus.request("node-manager", "get-node", {"cluster": cluster, "node": names[0]})
    assert node["labels"]["rack"] == "r7"
    assert "dedicated=web:NoSchedule" in [f"{t['key']}={t['value']}:{t['effect']}" for t in node["taints"]]

    await send(Cordon(cluster=cluster, tenant=TENANT, node=names[0]))
    await service.wait("cordoned", node=names[0])
    node = await app.bus.request("node-manager", "get-node", {"cluster": cluster, "node": names[0]})
    assert node["display_status"] == "Ready,SchedulingDisabled"
    await send(Uncordon(cluster=cluster, tenant=TENANT, node=names[0]))
    await service.wait("uncordoned", node=names[0])
    await send(Drain(cluster=cluster, tenant=TENANT, node=names[1], timeout_seconds=20))
    drained = await service.wait("drained", node=names[1])
    assert drained.data["report"]["outcome"] == "drained"


async def test_tenant_kubeconfigs_are_kept_sealed(service: Facts, cluster: str) -> None:
    stored = await app.store.collection(CLUSTERS).get(cluster)
    assert stored is not None
    assert stored.data["kubeconfig"].startswith("fernet:")
    assert "client-key-data" not in stored.data["kubeconfig"] and "BEGIN" not in stored.data["kubeconfig"]
    assert app.settings is not None
    key = app.settings.data_dir / "node-manager-secrets.key"
    assert key.stat().st_mode & 0o777 == 0o600
    # and still opened for use: the cluster answers through it
    assert (await app.bus.request("node-manager", "list-nodes", {"cluster": cluster}))["items"] is not None


async def test_bad_commands_fail_with_a_reason(service: Facts, cluster: str) -> None:
    bad = await send(ScalePool(cluster=cluster, tenant=TENANT, pool="nope", replicas=1))
    failed = await service.wait("command-failed", cluster=cluster, command="scale-pool")
    assert failed.correlationid == bad.id and "node pool nope not found" in failed.data["reason"]
    await send(SetLabels(cluster=cluster, tenant=TENANT, nodes=["ghost"], set={"a": "b"}))
    failed = await service.wait("command-failed", cluster=cluster, command="set-labels")
    assert "ghost" in failed.data["reason"]
    await send(Cordon(cluster="unregistered", tenant=TENANT, node="n1"))
    failed = await service.wait("command-failed", cluster="unregistered", command="cordon")
    assert "not registered" in failed.data["reason"]


async def test_autoscaler_step_records_decisions_and_scales(
    service: Facts, cluster: str, kube_cluster: KubeCluster
) -> None:
    service.clock.advance(SystemClock().now() - service.clock.now())
    await send(
        CreatePool.model_validate(
            {
                "cluster": cluster,
                "tenant": TENANT,
                "name": "auto",
                "flavour": "2c4g",
                "size": 1,
                "min_size": 1,
                "max_size": 2,
            }
        )
    )
    await eventually(lambda: _count(service.of("added", cluster=cluster, pool="auto"), 1), what="the auto node")
    async with kube_cluster.client() as api:
        await k8s.CoreV1Api(api).create_namespace({"metadata": {"name": cluster}})
        await k8s.AppsV1Api(api).create_namespaced_deployment(
            cluster, deployment("big", replicas=3, pool="auto", cpu="1")
        )
        await asyncio.sleep(2)  # the scheduler marks the pods it cannot place Unschedulable
        facts = await eventually(lambda: loops.autoscale_step(cluster), what="an autoscale decision")
        actions = sorted(f.action for f in facts)
        assert actions == ["no-scale-up", "scale-up"], facts
        up = next(f for f in facts if f.action == "scale-up")
        assert (up.pool, up.before, up.after) == ("auto", 1, 2)
        await service.wait("autoscale-decided", cluster=cluster, action="scale-up")
        await service.wait("pool-scaled", cluster=cluster, pool="auto", after=2)
        blocked = await service.wait("autoscale-decided", cluster=cluster, action="no-scale-up")
        assert "at their max: auto (2/2)" in blocked.data["reason"]
        await k8s.CoreV1Api(api).delete_namespace(cluster)


async def test_upgrade_pools_replaces_nodes_one_at_a_time(service: Facts, cluster: str) -> None:
    await send(
        CreatePool.model_validate(
            {"cluster": cluster, "tenant": TENANT, "name": "up", "flavour": "2c4g", "count": 2, "version": "v1.35.0"}
        )
    )
    await eventually(lambda: _count(service.of("added", cluster=cluster, pool="up"), 2), what="the up nodes")
    old = sorted(e.data["node"] for e in service.of("added", cluster=cluster, pool="up"))
    await send(UpgradePools(cluster=cluster, tenant=TENANT, version="v1.36.3"))
    upgraded = await service.wait("pool-upgraded", cluster=cluster, pool="up", within=120)
    assert sorted(upgraded.data["replaced"]) == old and len(upgraded.data["added"]) == 2
    assert upgraded.data["failed"] == ""
    rows = (await app.bus.request("node-manager", "list-nodes", {"cluster": cluster, "pool": "up"}))["items"]
    assert sorted(r["version"] for r in rows) == ["v1.36.3", "v1.36.3"]
    assert not set(old) & {r["name"] for r in rows}


async def _count(items: list[Envelope], n: int) -> bool:
    return len(items) >= n


async def test_repair_step_reports_not_ready_and_replaces_the_node(
    service: Facts, cluster: str, kube_cluster: KubeCluster
) -> None:
    clock = service.clock
    clock.advance(SystemClock().now() - clock.now())
    await send(
        CreatePool.model_validate({"cluster": cluster, "tenant": TENANT, "name": "rp", "flavour": "2c4g", "count": 3})
    )
    await eventually(lambda: _count(service.of("added", cluster=cluster, pool="rp"), 3), what="the rp nodes")
    async with kube_cluster.client() as api:
        ops = ClusterOps(api, cluster=cluster, node_cidr="10.88.0.0/16")
        pool, _ = await load_pool(app.store, cluster, "rp")
        # one node kwok does not manage, reporting NotReady
        [broken] = await ops.add_nodes(pool.model_copy(update={"count": 4}), 1, simulated=False)
        now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        await k8s.CoreV1Api(api).patch_node_status(
            broken,
            {
                "status": {
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "False",
                            "reason": "KubeletDown",
                            "message": "test",
                            "lastHeartbeatTime": now,
                            "lastTransitionTime": now,
                        }
                    ]
                }
            },
        )
    assert await loops.repair_step(cluster) == []
    nr = await service.wait("not-ready", cluster=cluster, node=broken)
    assert nr.data["pool"] == "rp"
    clock.advance(301)
    [repaired] = await loops.repair_step(cluster)
    assert list(repaired.replaced) == [broken] and not repaired.held
    fact = await service.wait("repaired", cluster=cluster, pool="rp")
    assert fact.data["replaced"][broken].startswith(f"{cluster}-rp-")
    rows = (await app.bus.request("node-manager", "list-nodes", {"cluster": cluster, "pool": "rp"}))["items"]
    assert broken not in {r["name"] for r in rows} and len(rows) == 4


async def test_add_and_remove_node_change_the_pool(service: Facts, cluster: str) -> None:
    await send(
        CreatePool.model_validate({"cluster": cluster, "tenant": TENANT, "name": "ar", "flavour": "2c4g", "count": 1})
    )
    await eventually(lambda: _count(service.of("added", cluster=cluster, pool="ar"), 1), what="the ar node")
    await send(AddNode(cluster=cluster, tenant=TENANT, pool="ar", count=2))
    scaled = await service.wait("pool-scaled", cluster=cluster, pool="ar", reason="add-node")
    assert (scaled.data["before"], scaled.data["after"], len(scaled.data["added"])) == (1, 3, 2)
    victim = scaled.data["added"][0]
    await send(RemoveNode(cluster=cluster, tenant=TENANT, node=victim, timeout_seconds=30))
    removed = await service.wait("removed", cluster=cluster, node=victim)
    assert "drain of" in removed.data["reason"] and "drained" in removed.data["reason"]
    pool = await app.bus.request("node-manager", "get-pool", {"cluster": cluster, "pool": "ar"})
    assert pool["count"] == 2
    rows = (await app.bus.request("node-manager", "list-nodes", {"cluster": cluster, "pool": "ar"}))["items"]
    assert len(rows) == 2 and victim not in {r["name"] for r in rows}


async def test_the_tenant_node_limit_refuses_adding_nodes(service: Facts, cluster: str) -> None:
    service.quota.limit = 2
    try:
        big = await send(
            CreatePool.model_validate(
                {"cluster": cluster, "tenant": TENANT, "name": "big", "flavour": "2c4g", "count": 3}
            )
        )
        failed = await service.wait("command-failed", cluster=cluster, command="create-pool")
        assert failed.correlationid == big.id and "the tenant node limit is 2" in failed.data["reason"]
        with pytest.raises(QueryError) as missing:
            await app.bus.request("node-manager", "get-pool", {"cluster": cluster, "pool": "big"})
        assert missing.value.code == 404

        await send(
            CreatePool.model_validate(
                {"cluster": cluster, "tenant": TENANT, "name": "lim", "flavour": "2c4g", "count": 1}
            )
        )
        await eventually(lambda: _count(service.of("added", cluster=cluster, pool="lim"), 1), what="the lim node")
        await send(ScalePool(cluster=cluster, tenant=TENANT, pool="lim", delta=3))
        failed = await service.wait("command-failed", cluster=cluster, command="scale-pool")
        assert failed.data["reason"].startswith("delta: adding 3 node(s) is refused")
        await send(AddNode(cluster=cluster, tenant=TENANT, pool="lim", count=5))
        failed = await service.wait("command-failed", cluster=cluster, command="add-node")
        assert failed.data["reason"].startswith("count: adding 5 node(s) is refused")
        pool = await app.bus.request("node-manager", "get-pool", {"cluster": cluster, "pool": "lim"})
        assert pool["count"] == 1
        assert {(TENANT, cluster, 3), (TENANT, cluster, 1), (TENANT, cluster, 5)} <= set(service.quota.asked)
    finally:
        service.quota.limit = None
