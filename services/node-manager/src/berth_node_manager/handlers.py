"""The service layer: node-manager's commands and queries, declared on ``app``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from berth_common.bus import Context, QueryError, Transient
from berth_common.store.unit_of_work import update
from berth_schema.cluster import GetKubeconfig, Kubeconfig
from berth_schema.node import (
    AddNode,
    ClusterRegistered,
    Cordon,
    CreatePool,
    Drain,
    LabelsSet,
    NodeAdded,
    NodeCordoned,
    NodeDrained,
    NodeDrainFailed,
    NodeRemoved,
    NodeUncordoned,
    PoolCreated,
    PoolScaled,
    PoolUpgraded,
    RegisterCluster,
    RemoveNode,
    ScalePool,
    SetLabels,
    SetTaints,
    TaintsSet,
    Uncordon,
    UpgradePools,
)
from berth_schema.node.labels import POOL_LABEL, check_labels
from berth_schema.node.queries import (
    GetNode,
    GetPool,
    ListNodes,
    ListPools,
    NodeDetail,
    NodeList,
    PoolDetail,
    PoolList,
)

from .app import app
from .domain.drain import DrainOptions
from .domain.nodes import node_row
from .domain.pools import Flavour, NodePool, scale_target
from .domain.upgrade import pool_upgrade_order
from .kube.connect import parse_kubeconfig
from .kube.drain import drain_node
from .kube.nodes import in_bulk
from .operations import ClusterOps, RemoveResult
from .runtime import envelope, guarded, ops_for, record, wiring
from .state import (
    CLUSTERS,
    POOLS,
    SEALER,
    Unknown,
    cluster_pools,
    load_cluster,
    load_pool,
    seal_kubeconfig,
    server_of,
)

log = logging.getLogger(__name__)


def _node_subject(cluster: str, node: str) -> str:
    return f"clusters/{cluster}/nodes/{node}"


def _pool_subject(cluster: str, pool: str) -> str:
    return f"clusters/{cluster}/nodepools/{pool}"


@app.on_startup
async def _open_secrets(svc: Any) -> None:
    assert svc.settings is not None
    SEALER.open(svc.settings.data_dir)


@app.on_shutdown
async def _close_clients(_svc: Any) -> None:
    await wiring.connections.close()


# --- clusters -------------------------------------------------------------------------------------
@app.handler(RegisterCluster, concurrency=2)
@guarded("register-cluster")
async def register_cluster(cmd: RegisterCluster, ctx: Context) -> None:
    text = cmd.kubeconfig or await _ask_kubeconfig(cmd.tenant, cmd.cluster)
    config = parse_kubeconfig(text)
    data = {
        "cluster": cmd.cluster,
        "tenant": cmd.tenant,
        "kubeconfig": seal_kubeconfig(text),
        "node_cidr": cmd.node_cidr,
        "simulated": cmd.simulated,
        "server": server_of(config),
    }
    fact = envelope(
        ClusterRegistered(cluster=cmd.cluster, tenant=cmd.tenant, server=data["server"]),
        subject=f"clusters/{cmd.cluster}",
        ctx=ctx,
    )
    await update(
        app.store.collection(CLUSTERS),
        cmd.cluster,
        lambda _d: dict(data),
        caused_by=ctx.envelope.id,
        initial=data,
        events_for=lambda _b, _a: [fact],
    )
    app.wake_relay()
    log.info("cluster registered", extra={"cluster": cmd.cluster, "server": data["server"]})


async def _ask_kubeconfig(tenant: str, cluster: str) -> str:
    """The tenant cluster's admin kubeconfig from cluster-manager (request/reply, never a stream)."""
    try:
        reply: Kubeconfig = await app.bus.ask(GetKubeconfig(tenant=tenant, cluster=cluster))
    except QueryError as exc:
        if exc.code >= 500:
            raise Transient(f"register-cluster: cluster-manager: {exc.detail}") from None
        raise ValueError(f"cluster-manager has no kubeconfig for {cluster}: {exc.detail}") from None
    if not reply.kubeconfig:
        raise ValueError(f"cluster-manager answered get-kubeconfig for {cluster} without a kubeconfig")
    return reply.kubeconfig


# --- pools ----------------------------------------------------------------------------------------
@app.handler(CreatePool, concurrency=4, ack_wait=120)
@guarded("create-pool")
async def create_pool(cmd: CreatePool, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    pool = NodePool(**cmd.spec().model_dump(), cluster=cmd.cluster, tenant=cmd.tenant, version=cmd.version)
    col = app.store.collection(POOLS)
    existing = await col.get(pool.key)
    if existing is None:
        await wiring.quota.ensure(tenant=pool.tenant, cluster=pool.cluster, adding=pool.count, field="count")
        fact = PoolCreated(
            cluster=pool.cluster,
            tenant=pool.tenant,
            pool=pool.name,
            flavour=pool.flavour.name,
            count=pool.count,
            zone=pool.zone,
            role=pool.role,
        )
        await col.create(
            pool.key,
            pool.model_dump(mode="json"),
            caused_by=ctx.envelope.id,
            events=[envelope(fact, subject=_pool_subject(pool.cluster, pool.name), ctx=ctx)],
        )
        app.wake_relay()
    elif not existing.has_applied(ctx.envelope.id):
        raise ValueError(f"name: node pool {pool.name} already exists in cluster {pool.cluster}")
    added, _ = await ops.scale_to(pool)
    await _record_nodes(ctx, pool, added=added, removed=[], kind="create-pool")


@app.handler(ScalePool, concurrency=4, ack_wait=300)
@guarded("scale-pool")
async def scale_pool(cmd: ScalePool, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    pool, _ = await load_pool(app.store, cmd.cluster, cmd.pool)
    result = scale_target(pool, replicas=cmd.replicas, delta=cmd.delta)
    field = "replicas" if cmd.replicas is not None else "delta"
    await wiring.quota.ensure(tenant=pool.tenant, cluster=pool.cluster, adding=result.after - pool.count, field=field)
    pool = await _set_count(pool, result.after, caused_by=ctx.envelope.id)
    added, removed = await ops.scale_to(pool)
    reason = "; ".join(r for r in (cmd.reason, result.reason, _awaiting(ops, pool, added)) if r)
    kept = [r for r in removed if not r.deleted]
    if kept:
        reason += "; kept " + ", ".join(f"{r.node} ({r.drain.summary()})" for r in kept)
    scaled = PoolScaled(
        cluster=pool.cluster,
        tenant=pool.tenant,
        pool=pool.name,
        before=result.before,
        after=result.after,
        reason=reason,
        added=added,
        removed=[r.node for r in removed if r.deleted],
    )
    await _record_nodes(ctx, pool, added=added, removed=removed, kind="scale-pool", extra=[scaled])


def _awaiting(ops: ClusterOps, pool: NodePool, added: list[str]) -> str:
    """On real machines nodes are not created but join: say how many the pool waits for."""
    if ops.simulated or added:
        return ""
    return f"waiting for machines to join (ask join-command for pool {pool.name})"


async def _set_count(pool: NodePool, count: int, *, caused_by: str | None) -> NodePool:
    def mutate(data: dict[str, Any]) -> None:
        data["count"] = count

    rec = await update(app.store.collection(POOLS), pool.key, mutate, caused_by=caused_by)
    return NodePool.model_validate(rec.data)


async def _record_nodes(
    ctx: Context,
    pool: NodePool,
    *,
    added: list[str],
    removed: list[RemoveResult],
    kind: str,
    extra: list[Any] | None = None,
) -> None:
    facts: list[Any] = [*(extra or [])]
    facts += [NodeAdded(cluster=pool.cluster, tenant=pool.tenant, pool=pool.name, node=n) for n in added]
    for r in removed:
        if r.deleted:
            facts.append(
                NodeRemoved(
                    cluster=pool.cluster,
                    tenant=pool.tenant,
                    pool=pool.name,
                    node=r.node,
                    reason=f"{kind}: {r.drain.summary()}",
                )
            )
        else:
            facts.append(
                NodeDrainFailed(
                    cluster=pool.cluster, tenant=pool.tenant, node=r.node, reason=r.drain.summary(), report=r.drain
                )
            )
    envs = [envelope(f, subject=_pool_subject(pool.cluster, pool.name), ctx=ctx) for f in facts]
    await record(
        f"{kind}-{ctx.envelope.id}",
        kind,
        {"cluster": pool.cluster, "pool": pool.name, "added": added, "removed": [r.node for r in removed]},
        envs,
        caused_by=ctx.envelope.id,
    )


@app.handler(UpgradePools, concurrency=1, ack_wait=600)
@guarded("upgrade-pools")
async def upgrade_pools(cmd: UpgradePools, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    facts = []
    for pool in pool_upgrade_order(await cluster_pools(app.store, cmd.cluster)):
        if pool.version == cmd.version:
            continue
        beat = asyncio.create_task(_keep_alive(ctx))
        try:
            result = await ops.upgrade_pool(pool, version=cmd.version)
        finally:
            beat.cancel()
        if not result.failed:

            def mutate(data: dict[str, Any]) -> None:
                data["version"] = cmd.version

            await update(app.store.collection(POOLS), pool.key, mutate, caused_by=ctx.envelope.id)
        facts.append(
            envelope(
                PoolUpgraded(
                    cluster=pool.cluster,
                    tenant=pool.tenant,
                    pool=pool.name,
                    version=cmd.version,
                    replaced=[r.node for r in result.removed if r.deleted],
                    added=result.added,
                    failed=result.failed,
                ),
                subject=_pool_subject(pool.cluster, pool.name),
                ctx=ctx,
            )
        )
        if result.failed:
            break  # a PDB or a stuck pod stopped this pool: later pools wait for a retry
    await record(
        f"upgrade-{ctx.envelope.id}",
        "upgrade-pools",
        {"cluster": cmd.cluster, "version": cmd.version},
        facts,
        caused_by=ctx.envelope.id,
    )


async def _keep_alive(ctx: Context) -> None:
    while True:
        await asyncio.sleep(10)
        await ctx.in_progress()


# --- nodes ----------------------------------------------------------------------------------------
@app.handler(AddNode, concurrency=4, ack_wait=120)
@guarded("add-node")
async def add_node(cmd: AddNode, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    pool, _ = await load_pool(app.store, cmd.cluster, cmd.pool)
    result = scale_target(pool, replicas=None, delta=cmd.count)
    if result.clamped:
        raise ValueError(f"count: adding {cmd.count} node(s) would exceed pool bounds ({result.reason})")
    await wiring.quota.ensure(tenant=pool.tenant, cluster=pool.cluster, adding=cmd.count, field="count")
    pool = await _set_count(pool, result.after, caused_by=ctx.envelope.id)
    added, _ = await ops.scale_to(pool)
    scaled = PoolScaled(
        cluster=pool.cluster,
        tenant=pool.tenant,
        pool=pool.name,
        before=result.before,
        after=result.after,
        reason="; ".join(r for r in ("add-node", _awaiting(ops, pool, added)) if r),
        added=added,
    )
    await _record_nodes(ctx, pool, added=added, removed=[], kind="add-node", extra=[scaled])


async def _node_pool(ops: ClusterOps, node: str) -> NodePool | None:
    raw = await ops.nodes.get(node)
    if raw is None:
        raise Unknown(f"node {node} not found in cluster {ops.cluster}")
    name = (raw["metadata"].get("labels") or {}).get(POOL_LABEL)
    if not name:
        return None
    try:
        pool, _ = await load_pool(app.store, ops.cluster, name)
        return pool
    except Unknown:
        return None


@app.handler(RemoveNode, concurrency=4, ack_wait=600)
@guarded("remove-node")
async def remove_node(cmd: RemoveNode, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    pool = await _node_pool(ops, cmd.node)
    beat = asyncio.create_task(_keep_alive(ctx))
    try:
        result = await ops.remove_node(
            cmd.node, options=DrainOptions(timeout_seconds=cmd.timeout_seconds, force=cmd.force), force=cmd.force
        )
    finally:
        beat.cancel()
    if pool is None:
        pool = NodePool(name="unpooled", cluster=cmd.cluster, tenant=cmd.tenant, flavour=Flavour(cpu=1, memory_gib=1))
    elif result.deleted:
        pool = await _set_count(pool, max(0, pool.count - 1), caused_by=ctx.envelope.id)
    await _record_nodes(ctx, pool, added=[], removed=[result], kind="remove-node")


@app.handler(Cordon, concurrency=8)
@guarded("cordon")
async def cordon(cmd: Cordon, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    await _exists(ops, cmd.node)
    await ops.nodes.set_unschedulable(cmd.node, True)
    fact = NodeCordoned(cluster=cmd.cluster, tenant=cmd.tenant, node=cmd.node)
    await record(
        f"cordon-{ctx.envelope.id}",
        "cordon",
        {"cluster": cmd.cluster, "node": cmd.node},
        [envelope(fact, subject=_node_subject(cmd.cluster, cmd.node), ctx=ctx)],
        caused_by=ctx.envelope.id,
    )


@app.handler(Uncordon, concurrency=8)
@guarded("uncordon")
async def uncordon(cmd: Uncordon, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    await _exists(ops, cmd.node)
    await ops.nodes.set_unschedulable(cmd.node, False)
    fact = NodeUncordoned(cluster=cmd.cluster, tenant=cmd.tenant, node=cmd.node)
    await record(
        f"uncordon-{ctx.envelope.id}",
        "uncordon",
        {"cluster": cmd.cluster, "node": cmd.node},
        [envelope(fact, subject=_node_subject(cmd.cluster, cmd.node), ctx=ctx)],
        caused_by=ctx.envelope.id,
    )


async def _exists(ops: ClusterOps, node: str) -> None:
    if await ops.nodes.get(node) is None:
        raise Unknown(f"node {node} not found in cluster {ops.cluster}")


@app.handler(Drain, concurrency=4, ack_wait=600)
@guarded("drain")
async def drain(cmd: Drain, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    await _exists(ops, cmd.node)
    beat = asyncio.create_task(_keep_alive(ctx))
    try:
        report = await drain_node(ops.api, cmd.node, cmd.options())
    finally:
        beat.cancel()
    fact: Any
    if report.outcome == "drained":
        fact = NodeDrained(cluster=cmd.cluster, tenant=cmd.tenant, node=cmd.node, report=report)
    else:
        fact = NodeDrainFailed(
            cluster=cmd.cluster, tenant=cmd.tenant, node=cmd.node, reason=report.summary(), report=report
        )
    await record(
        f"drain-{ctx.envelope.id}",
        "drain",
        {"cluster": cmd.cluster, "node": cmd.node, "report": report.model_dump(mode="json")},
        [envelope(fact, subject=_node_subject(cmd.cluster, cmd.node), ctx=ctx)],
        caused_by=ctx.envelope.id,
    )


@app.handler(SetLabels, concurrency=4)
@guarded("set-labels")
async def set_labels(cmd: SetLabels, ctx: Context) -> None:
    check_labels(cmd.set, field="set")
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    errors = await in_bulk(cmd.nodes, lambda n: ops.nodes.patch_labels(n, set_labels=cmd.set, remove=cmd.remove))
    if len(errors) == len(cmd.nodes):
        raise ValueError("; ".join(f"{n}: {e}" for n, e in sorted(errors.items())))
    fact = LabelsSet(
        cluster=cmd.cluster, tenant=cmd.tenant, nodes=cmd.nodes, set=cmd.set, remove=cmd.remove, errors=errors
    )
    await record(
        f"labels-{ctx.envelope.id}",
        "set-labels",
        {"cluster": cmd.cluster, "errors": errors},
        [envelope(fact, subject=f"clusters/{cmd.cluster}/nodes", ctx=ctx)],
        caused_by=ctx.envelope.id,
    )


@app.handler(SetTaints, concurrency=4)
@guarded("set-taints")
async def set_taints(cmd: SetTaints, ctx: Context) -> None:
    ops = await ops_for(app.store, cmd.cluster, tenant=cmd.tenant)
    errors = await in_bulk(cmd.nodes, lambda n: ops.nodes.patch_taints(n, add=cmd.add, remove_keys=cmd.remove))
    if len(errors) == len(cmd.nodes):
        raise ValueError("; ".join(f"{n}: {e}" for n, e in sorted(errors.items())))
    fact = TaintsSet(
        cluster=cmd.cluster, tenant=cmd.tenant, nodes=cmd.nodes, add=cmd.add, remove=cmd.remove, errors=errors
    )
    await record(
        f"taints-{ctx.envelope.id}",
        "set-taints",
        {"cluster": cmd.cluster, "errors": errors},
        [envelope(fact, subject=f"clusters/{cmd.cluster}/nodes", ctx=ctx)],
        caused_by=ctx.envelope.id,
    )


# --- queries --------------------------------------------------------------------------------------
async def _ops_or_404(cluster: str, tenant: str | None) -> ClusterOps:
    try:
        return await ops_for(app.store, cluster, tenant=tenant)
    except Unknown as exc:
        raise QueryError(404, str(exc)) from None


@app.query(ListPools)
async def list_pools(req: ListPools) -> PoolList:
    try:
        await load_cluster(app.store, req.cluster, tenant=req.tenant)
    except Unknown as exc:
        raise QueryError(404, str(exc)) from None
    return PoolList(items=[p.detail() for p in await cluster_pools(app.store, req.cluster)])


@app.query(GetPool)
async def get_pool(req: GetPool) -> PoolDetail:
    try:
        pool, _ = await load_pool(app.store, req.cluster, req.pool)
    except Unknown as exc:
        raise QueryError(404, str(exc)) from None
    if req.tenant is not None and pool.tenant != req.tenant:
        raise QueryError(404, f"node pool {req.pool} not found in cluster {req.cluster}")
    return pool.detail()


@app.query(ListNodes)
async def list_nodes(req: ListNodes) -> NodeList:
    ops = await _ops_or_404(req.cluster, req.tenant)
    rows = await ops.rows(pool=req.pool)
    if req.status is not None:
        rows = [r for r in rows if r.status == req.status]
    return NodeList(items=rows)


@app.query(GetNode)
async def get_node(req: GetNode) -> NodeDetail:
    ops = await _ops_or_404(req.cluster, req.tenant)
    raw = await ops.nodes.get(req.node)
    if raw is None:
        raise QueryError(404, f"node {req.node} not found in cluster {ops.cluster}")
    return NodeDetail(**node_row(raw).model_dump(), conditions=raw.get("status", {}).get("conditions") or [])
