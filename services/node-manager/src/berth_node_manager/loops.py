"""node-manager's background loops: adoption of joined nodes, the node autoscaler and health
repair, each one step per registered cluster per tick. A step can be run directly (tests drive
them with a fake clock)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from berth_common.clock import Clock
from berth_common.events import new_id
from berth_common.store.lease import Lease
from berth_common.store.unit_of_work import update
from berth_schema.node import AutoscaleDecided, NodeAdded, NodeNotReady, NodeRemoved, NodeRepaired, PoolScaled

from .app import app
from .domain.autoscaler import AutoscalerPolicy, AutoscalerState
from .domain.repair import RepairPolicy, node_health
from .joins import adopt_step
from .runtime import envelope, ops_for, record
from .state import AUTOSCALER, CLUSTERS, POOLS, cluster_pools

log = logging.getLogger(__name__)


class LoopSettings:
    """The loop's period and policies (``bootstrap`` sets them from the settings)."""

    interval_seconds = 15.0
    autoscaler = AutoscalerPolicy()
    repair = RepairPolicy()


async def _clusters() -> list[dict[str, Any]]:
    return [r.data for r in await app.store.collection(CLUSTERS).list(limit=1000)]


async def _notes(cluster: str) -> dict[str, Any]:
    rec = await app.store.collection(AUTOSCALER).get(cluster)
    return (
        dict(rec.data)
        if rec
        else {"cluster": cluster, "state": AutoscalerState().model_dump(mode="json"), "not_ready": [], "held": ""}
    )


async def autoscale_step(cluster: str) -> list[AutoscaleDecided]:
    """Observe, decide, record every decision with its reason, then carry out the scale decisions."""
    pools = [p for p in await cluster_pools(app.store, cluster) if p.autoscaling.enabled]
    if not pools:
        return []
    ops = await ops_for(app.store, cluster)
    notes = await _notes(cluster)
    state = AutoscalerState.model_validate(notes["state"])
    decisions, state = await ops.autoscale_step(pools, state, LoopSettings.autoscaler)
    tenant = pools[0].tenant
    facts = [
        AutoscaleDecided(
            cluster=cluster,
            tenant=tenant,
            pool=d.pool,
            action=d.action,
            before=d.before,
            after=d.after,
            node=d.node,
            reason=d.reason,
            pods=d.pods,
        )
        for d in decisions
    ]
    envs = [envelope(f, subject=f"clusters/{cluster}/nodepools/{f.pool or '-'}", tenant=tenant) for f in facts]
    notes["state"] = state.model_dump(mode="json")
    await update(
        app.store.collection(AUTOSCALER),
        cluster,
        lambda _d: notes,
        caused_by=None,
        initial=notes,
        events_for=lambda _b, _a: envs,
    )
    app.wake_relay()
    by_name = {p.name: p for p in pools}
    for d in decisions:
        if d.action not in ("scale-up", "scale-down"):
            continue
        pool = by_name[d.pool]

        rec = await update(app.store.collection(POOLS), pool.key, _count_setter(d.after), caused_by=None)
        pool = pool.model_validate(rec.data)
        added, removed = await ops.apply_autoscale(pool, d)
        out: list[Any] = [
            PoolScaled(
                cluster=cluster,
                tenant=tenant,
                pool=pool.name,
                before=d.before,
                after=d.after,
                reason=f"autoscaler: {d.reason}",
                added=added,
                removed=[removed.node] if removed and removed.deleted else [],
            )
        ]
        out += [NodeAdded(cluster=cluster, tenant=tenant, pool=pool.name, node=n) for n in added]
        if removed is not None and removed.deleted:
            out.append(
                NodeRemoved(
                    cluster=cluster, tenant=tenant, pool=pool.name, node=removed.node, reason=f"autoscaler: {d.reason}"
                )
            )
        elif removed is not None:
            # the drain did not finish: the node stays (cordoned) and the pool keeps its count
            await update(app.store.collection(POOLS), pool.key, _count_setter(d.before), caused_by=None)
        key = f"autoscale-{new_id()}"
        await record(
            key,
            "autoscale",
            {"cluster": cluster, "pool": pool.name, "decision": d.model_dump(mode="json")},
            [envelope(f, subject=f"clusters/{cluster}/nodepools/{pool.name}", tenant=tenant) for f in out],
            caused_by=None,
        )
    return facts


def _count_setter(count: int) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["count"] = count

    return mutate


async def repair_step(cluster: str) -> list[NodeRepaired]:
    """Report nodes newly NotReady; replace those past the threshold unless the pool's cap holds."""
    pools = await cluster_pools(app.store, cluster)
    if not pools:
        return []
    ops = await ops_for(app.store, cluster)
    notes = await _notes(cluster)
    known: set[str] = set(notes.get("not_ready", []))
    held_before: dict[str, str] = dict(notes.get("held_by_pool", {}))
    facts: list[Any] = []
    repaired: list[NodeRepaired] = []
    now_not_ready: set[str] = set()
    for pool in pools:
        health = [node_health(n) for n in await ops.pool_nodes(pool.name)]
        for h in health:
            if h.status != "Ready":
                now_not_ready.add(h.name)
                if h.name not in known:
                    facts.append(
                        NodeNotReady(
                            cluster=cluster,
                            tenant=pool.tenant,
                            pool=pool.name,
                            node=h.name,
                            since=h.since.isoformat() if h.since else "",
                        )
                    )
        plan = await ops.repair_plan(pool, LoopSettings.repair)
        if plan.held:
            if held_before.get(pool.name) != plan.reason:
                repaired.append(
                    NodeRepaired(
                        cluster=cluster, tenant=pool.tenant, pool=pool.name, replaced={}, held=True, reason=plan.reason
                    )
                )
            held_before[pool.name] = plan.reason
            continue
        held_before.pop(pool.name, None)
        if plan.replace:
            pairs = await ops.repair(pool, plan)
            repaired.append(
                NodeRepaired(
                    cluster=cluster,
                    tenant=pool.tenant,
                    pool=pool.name,
                    replaced=dict(pairs),
                    held=False,
                    reason=plan.reason,
                )
            )
    facts += repaired
    notes.update(not_ready=sorted(now_not_ready), held_by_pool=held_before)
    tenant = pools[0].tenant
    envs = [envelope(f, subject=f"clusters/{cluster}/nodes", tenant=tenant) for f in facts]
    await update(
        app.store.collection(AUTOSCALER),
        cluster,
        lambda _d: notes,
        caused_by=None,
        initial=notes,
        events_for=lambda _b, _a: envs,
    )
    app.wake_relay()
    return repaired


@app.background
async def node_loops(_app: Any) -> None:
    # One replica at a time decides: two autoscalers would both add a node for the same pending pod.
    lease = Lease(
        app.store.collection("leases"),
        "node-loops",
        holder=f"{socket.gethostname()}-{os.getpid()}-{new_id()[:6]}",
        ttl=3 * LoopSettings.interval_seconds,
        clock=Clock(),
    )
    while True:
        await asyncio.sleep(LoopSettings.interval_seconds)
        if not await lease.acquire():
            continue
        for data in await _clusters():
            for step in (adopt_step, autoscale_step, repair_step):
                try:
                    await step(data["cluster"])
                except Exception:
                    log.exception("%s failed for cluster %s", step.__name__, data["cluster"])
