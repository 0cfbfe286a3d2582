"""What node-manager does to one tenant cluster: pool nodes up and down, autoscaler and health
repair steps, pool upgrades. Domain plans, carried out through the Kubernetes adapters; the
handlers (and tests) call these and record the outcome."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from berth_schema.node.labels import CLUSTER_LABEL, POOL_LABEL
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient

from .domain.autoscaler import AutoscalerPolicy, AutoscalerState, Decision, decide, is_unschedulable, node_usage
from .domain.clock import Clock, SystemClock
from .domain.drain import DrainOptions, DrainReport
from .domain.joining import TOKEN_ANNOTATION, Adoption, plan_adoptions
from .domain.nodes import SOURCE_ANNOTATION, NodeRow, node_manifest, node_row
from .domain.pools import NodePool, allocate_ip, new_node_name
from .domain.repair import RepairPlan, RepairPolicy, node_health, plan_repair
from .domain.upgrade import PoolUpgradePlan, plan_pool_upgrade
from .kube.drain import drain_node
from .kube.nodes import KubeNodes
from .kube.rawapi import call_json

DEFAULT_NODE_CIDR = "192.168.1.0/24"


@dataclass
class RemoveResult:
    node: str
    drain: DrainReport
    deleted: bool


@dataclass
class UpgradeResult:
    plan: PoolUpgradePlan
    added: list[str] = field(default_factory=list)
    removed: list[RemoveResult] = field(default_factory=list)
    failed: str = ""


class ClusterOps:
    def __init__(
        self,
        api: ApiClient,
        *,
        cluster: str,
        node_cidr: str = DEFAULT_NODE_CIDR,
        simulated: bool = True,
        clock: Clock | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        self.api = api
        self.cluster = cluster
        self.node_cidr = node_cidr
        self.simulated = simulated
        self.clock = clock or SystemClock()
        self.ready_timeout = ready_timeout
        self.nodes = KubeNodes(api)
        self.core = k8s.CoreV1Api(api)
        self._alloc_lock = asyncio.Lock()

    # --- reads --------------------------------------------------------------------------
    async def cluster_nodes(self) -> list[dict[str, Any]]:
        """Nodes of this cluster: ours (labelled) — or, on a dedicated cluster, every node."""
        return await self.nodes.list()

    async def pool_nodes(self, pool: str) -> list[dict[str, Any]]:
        return await self.nodes.list(label_selector=f"{CLUSTER_LABEL}={self.cluster},{POOL_LABEL}={pool}")

    async def rows(self, *, pool: str = "") -> list[NodeRow]:
        raw = await (self.pool_nodes(pool) if pool else self.cluster_nodes())
        return sorted((node_row(n) for n in raw), key=lambda r: r.name)

    async def all_pods(self) -> list[dict[str, Any]]:
        data = await call_json(self.core.list_pod_for_all_namespaces)
        items: list[dict[str, Any]] = data.get("items", [])
        return items

    # --- nodes ----------------------------------------------------------------------------
    async def add_nodes(
        self, pool: NodePool, count: int, *, wait_ready: bool = True, simulated: bool | None = None
    ) -> list[str]:
        if simulated is None and not self.simulated:
            return []  # real machines: nodes come by joining with a token (see join-command)
        sim = self.simulated if simulated is None else simulated
        async with self._alloc_lock:
            existing = await self.nodes.list()
            names = [n["metadata"]["name"] for n in existing]
            ips = [a.get("address", "") for n in existing for a in n.get("status", {}).get("addresses") or []]
            created: list[str] = []
            for _ in range(count):
                name = new_node_name(pool, names)
                ip = allocate_ip(self.node_cidr, ips)
                await self.nodes.create(node_manifest(pool, name=name, private_ip=ip, simulated=sim))
                names.append(name)
                ips.append(ip)
                created.append(name)
        if wait_ready and sim:
            await asyncio.gather(*(self.nodes.wait_ready(n, within=self.ready_timeout) for n in created))
        return created

    async def remove_node(self, name: str, *, options: DrainOptions | None = None, force: bool = False) -> RemoveResult:
        """Drain, then delete. A drain that does not finish keeps the node (cordoned) unless ``force``."""
        report = await drain_node(self.api, name, options or DrainOptions())
        deleted = False
        if report.outcome == "drained" or force:
            deleted = await self.nodes.delete(name)
        return RemoveResult(node=name, drain=report, deleted=deleted)

    async def scale_to(
        self, pool: NodePool, *, options: DrainOptions | None = None
    ) -> tuple[list[str], list[RemoveResult]]:
        """Bring the pool's node count to ``pool.count``: add nodes, or drain and remove the least
        useful ones (not Ready first, then the emptiest)."""
        current = await self.pool_nodes(pool.name)
        if len(current) < pool.count:
            return await self.add_nodes(pool, pool.count - len(current)), []
        extra = len(current) - pool.count
        if extra <= 0:
            return [], []
        pods = await self.all_pods()
        per_node: dict[str, int] = defaultdict(int)
        for p in pods:
            per_node[p.get("spec", {}).get("nodeName", "")] += 1
        order = sorted(
            current,
            key=lambda n: (node_row(n).status == "Ready", per_node[n["metadata"]["name"]], n["metadata"]["name"]),
        )
        removed = [await self.remove_node(n["metadata"]["name"], options=options) for n in order[:extra]]
        return [], removed

    async def joined_to_adopt(self, pools: dict[str, NodePool], token_pools: dict[str, str]) -> list[Adoption]:
        """Nodes that joined with a token issued for one of ``pools`` and are not adopted yet."""
        nodes, csrs = await asyncio.gather(self.cluster_nodes(), self.certificate_requests())
        wanted = {t: p for t, p in token_pools.items() if p in pools}
        return plan_adoptions(nodes, csrs, wanted)

    async def give_pool_defaults(self, node: str, pool: NodePool) -> None:
        await self.nodes.patch_labels(node, set_labels=pool.node_labels(), allow_reserved=True)
        await self.nodes.patch_taints(node, add=pool.node_taints())

    async def mark_joined(self, adoption: Adoption) -> None:
        """The last step of an adoption: until this annotation is on, the next pass adopts again."""
        await self.nodes.annotate(adoption.node, {SOURCE_ANNOTATION: "joined", TOKEN_ANNOTATION: adoption.token_id})

    async def certificate_requests(self) -> list[dict[str, Any]]:
        data = await call_json(k8s.CertificatesV1Api(self.api).list_certificate_signing_request)
        items: list[dict[str, Any]] = data.get("items", [])
        return items

    # --- loops, one step at a time -----------------------------------------------------------
    async def autoscale_step(
        self, pools: list[NodePool], state: AutoscalerState, policy: AutoscalerPolicy
    ) -> tuple[list[Decision], AutoscalerState]:
        """Observe and decide (no action: the caller records the decision, then applies it)."""
        nodes, pods = await asyncio.gather(self.cluster_nodes(), self.all_pods())
        by_node: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for p in pods:
            by_node[p.get("spec", {}).get("nodeName", "")].append(p)
        usage = [node_usage(n, by_node[n["metadata"]["name"]]) for n in nodes]
        for u in usage:
            if u.labels.get(CLUSTER_LABEL) != self.cluster:
                u.pool = ""  # other nodes can take moved pods but belong to none of our pools
        pending = [p for p in pods if is_unschedulable(p)]
        return decide(pools=pools, nodes=usage, pending=pending, state=state, now=self.clock.now(), policy=policy)

    async def apply_autoscale(
        self, pool: NodePool, decision: Decision, *, options: DrainOptions | None = None
    ) -> tuple[list[str], RemoveResult | None]:
        """Carry out one decision: add the nodes of a scale-up, drain and remove a scale-down's node."""
        if decision.action == "scale-up":
            return await self.add_nodes(pool, decision.after - decision.before), None
        if decision.action == "scale-down":
            return [], await self.remove_node(decision.node, options=options)
        return [], None

    async def repair_plan(self, pool: NodePool, policy: RepairPolicy) -> RepairPlan:
        health = [node_health(n) for n in await self.pool_nodes(pool.name)]
        return plan_repair(pool.name, health, now=self.clock.now(), policy=policy)

    async def repair(self, pool: NodePool, plan: RepairPlan) -> list[tuple[str, str]]:
        """Replace each node the plan names: a new node first, then the broken one is deleted
        (its pods cannot be evicted gracefully from a dead kubelet, so no drain)."""
        replaced: list[tuple[str, str]] = []
        if not self.simulated:
            return replaced  # a joined machine is not ours to replace: NodeNotReady tells its owner
        for old in plan.replace:
            [new] = await self.add_nodes(pool, 1)
            await self.nodes.delete(old)
            replaced.append((old, new))
        return replaced

    async def upgrade_pool(self, pool: NodePool, *, version: str, options: DrainOptions | None = None) -> UpgradeResult:
        """Carry out a pool upgrade plan step by step; stops at the first drain that fails."""
        target = pool.model_copy(update={"version": version})
        plan = plan_pool_upgrade(pool, await self.rows(pool=pool.name), version=version)
        result = UpgradeResult(plan=plan)
        if not self.simulated and plan.steps:
            # replacing would drain and delete machines with nothing to take their place
            result.failed = (
                f"pool {pool.name} runs on machines that joined with a token: upgrade their kubelets to "
                f"{version} in place (or join new machines and remove the old ones), then retry"
            )
            return result
        fresh: list[str] = []
        for step in plan.steps:
            if step.kind == "add-node":
                fresh = await self.add_nodes(target, step.count, wait_ready=False)
                result.added.extend(fresh)
            elif step.kind == "wait-ready":
                if self.simulated:
                    await asyncio.gather(*(self.nodes.wait_ready(n, within=self.ready_timeout) for n in fresh))
            elif step.kind == "cordon":
                await self.nodes.set_unschedulable(step.node, True)
            elif step.kind == "drain":
                report = await drain_node(self.api, step.node, options or DrainOptions())
                result.removed.append(RemoveResult(node=step.node, drain=report, deleted=False))
                if report.outcome != "drained":
                    result.failed = report.summary()
                    return result
            elif step.kind == "remove-node":
                await self.nodes.delete(step.node)
                for r in result.removed:
                    if r.node == step.node:
                        r.deleted = True
        return result
