"""Node autoscaling (弹性扩容) decisions, one pure step at a time.

Scale up: pods the scheduler marked Unschedulable are packed onto new nodes of the pools whose
flavour, labels and taints fit them (the pool that places most pods with the least waste wins, as
cluster-autoscaler's least-waste expander), within each pool's max.
Scale down: a node whose requested CPU and memory stay under a threshold for a cool-down period,
and whose pods fit elsewhere, is drained and removed, never below the pool's min.
Every decision carries the reason a human would want to read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from berth_schema.node.labels import POOL_LABEL, Taint
from berth_schema.node.messages import Action as Action
from pydantic import BaseModel, Field

from .drain import controller_of, is_daemonset_pod, is_finished, is_mirror
from .nodes import node_status
from .pools import NodePool
from .quantity import cores, gib
from .selectors import tolerates_all

LIFECYCLE_TAINT_PREFIX = "node.kubernetes.io/"


class AutoscalerPolicy(BaseModel):
    scale_down_utilisation: float = Field(default=0.5, gt=0, le=1)
    scale_down_unneeded_seconds: float = Field(default=600.0, ge=0)
    scale_down_delay_after_add_seconds: float = Field(default=600.0, ge=0)


class AutoscalerState(BaseModel):
    """What the autoscaler remembers between steps (stored, so a restart keeps the cool-downs)."""

    under_since: dict[str, datetime] = Field(default_factory=dict)
    last_scale_up: dict[str, datetime] = Field(default_factory=dict)
    noted: dict[str, str] = Field(default_factory=dict)  # pod -> last no-scale-up reason (no repeats)


class Decision(BaseModel):
    action: Action
    pool: str
    before: int
    after: int
    node: str = ""
    reason: str
    pods: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PodNeed:
    ref: str
    cpu: Decimal
    memory_gib: Decimal
    node_selector: Mapping[str, str]
    tolerations: tuple[Mapping[str, Any], ...]
    movable: bool  # managed by a controller, so it can be recreated elsewhere

    def fits_labels(self, labels: Mapping[str, str], taints: Iterable[Taint]) -> bool:
        return all(labels.get(k) == v for k, v in self.node_selector.items()) and tolerates_all(
            self.tolerations, taints
        )


def pod_need(pod: dict[str, Any]) -> PodNeed:
    """A pod's effective requests: the sum over containers, or the largest init container if bigger."""
    spec = pod.get("spec", {})

    def total(containers: list[dict[str, Any]], res: str, conv: Any) -> Decimal:
        return sum((conv(((c.get("resources") or {}).get("requests") or {}).get(res)) for c in containers), Decimal(0))

    def peak(containers: list[dict[str, Any]], res: str, conv: Any) -> Decimal:
        return max(
            (conv(((c.get("resources") or {}).get("requests") or {}).get(res)) for c in containers), default=Decimal(0)
        )

    containers, inits = spec.get("containers") or [], spec.get("initContainers") or []
    meta = pod["metadata"]
    return PodNeed(
        ref=f"{meta.get('namespace', 'default')}/{meta['name']}",
        cpu=max(total(containers, "cpu", cores), peak(inits, "cpu", cores)),
        memory_gib=max(total(containers, "memory", gib), peak(inits, "memory", gib)),
        node_selector=dict(spec.get("nodeSelector") or {}),
        tolerations=tuple(spec.get("tolerations") or ()),
        movable=controller_of(pod) is not None,
    )


def is_unschedulable(pod: dict[str, Any]) -> bool:
    status = pod.get("status", {})
    if pod.get("spec", {}).get("nodeName") or status.get("phase") != "Pending":
        return False
    return any(
        c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
        for c in status.get("conditions") or []
    )


@dataclass
class NodeUsage:
    name: str
    pool: str
    ready: bool
    schedulable: bool
    labels: dict[str, str]
    taints: list[Taint]
    alloc_cpu: Decimal
    alloc_memory_gib: Decimal
    pods: list[PodNeed] = field(default_factory=list)

    @property
    def used_cpu(self) -> Decimal:
        return sum((p.cpu for p in self.pods), Decimal(0))

    @property
    def used_memory_gib(self) -> Decimal:
        return sum((p.memory_gib for p in self.pods), Decimal(0))

    @property
    def utilisation(self) -> float:
        cpu = self.used_cpu / self.alloc_cpu if self.alloc_cpu else Decimal(1)
        mem = self.used_memory_gib / self.alloc_memory_gib if self.alloc_memory_gib else Decimal(1)
        return float(max(cpu, mem))


def node_usage(node: dict[str, Any], pods: Iterable[dict[str, Any]]) -> NodeUsage:
    """A node and the pods bound to it; DaemonSet and mirror pods do not count (they go with the node)."""
    meta, spec = node["metadata"], node.get("spec", {})
    alloc = node.get("status", {}).get("allocatable") or {}
    return NodeUsage(
        name=meta["name"],
        pool=(meta.get("labels") or {}).get(POOL_LABEL, ""),
        ready=node_status(node) == "Ready",
        schedulable=not spec.get("unschedulable", False),
        labels=dict(meta.get("labels") or {}),
        taints=[Taint.from_kube(t) for t in spec.get("taints") or []],
        alloc_cpu=cores(alloc.get("cpu")),
        alloc_memory_gib=gib(alloc.get("memory")),
        pods=[
            pod_need(p)
            for p in pods
            if p.get("spec", {}).get("nodeName") == meta["name"]
            and not is_finished(p)
            and not is_mirror(p)
            and not is_daemonset_pod(p)
        ],
    )


@dataclass
class _Bin:
    cpu: Decimal
    mem: Decimal

    def take(self, need: PodNeed) -> bool:
        if need.cpu <= self.cpu and need.memory_gib <= self.mem:
            self.cpu -= need.cpu
            self.mem -= need.memory_gib
            return True
        return False


def _pack(needs: list[PodNeed], pool: NodePool, *, upcoming: int, room: int) -> tuple[list[PodNeed], int, float]:
    """First-fit decreasing onto ``upcoming`` (already requested) then at most ``room`` new nodes of the
    pool's flavour. Returns (placed pods, new nodes used, waste fraction of the new nodes)."""
    cpu, mem = pool.flavour.allocatable_cpu(), pool.flavour.allocatable_memory_gib()
    bins = [_Bin(cpu, mem) for _ in range(upcoming)]
    fresh = 0
    placed: list[PodNeed] = []
    for need in sorted(needs, key=lambda n: (n.cpu, n.memory_gib), reverse=True):
        if any(b.take(need) for b in bins):
            placed.append(need)
            continue
        if fresh < room:
            b = _Bin(cpu, mem)
            if b.take(need):
                bins.append(b)
                fresh += 1
                placed.append(need)
    new_bins = bins[upcoming:]
    if not new_bins:
        return placed, 0, 0.0
    waste = sum(float(b.cpu / cpu + b.mem / mem) / 2 for b in new_bins) / len(new_bins)
    return placed, fresh, waste


def _fits_pool(need: PodNeed, pool: NodePool) -> str:
    """'' when a node of this pool could run the pod, else why not."""
    if not need.fits_labels(pool.node_labels(), pool.node_taints()):
        return f"pool {pool.name}: node selector or taints do not match"
    if need.cpu > pool.flavour.allocatable_cpu() or need.memory_gib > pool.flavour.allocatable_memory_gib():
        return (
            f"pool {pool.name}: requests cpu {need.cpu:g}, memory {need.memory_gib:.2f}Gi exceed flavour "
            f"{pool.flavour.name} allocatable ({pool.flavour.allocatable_cpu():g} cpu, "
            f"{pool.flavour.allocatable_memory_gib():.2f}Gi)"
        )
    return ""


def decide(
    *,
    pools: list[NodePool],
    nodes: list[NodeUsage],
    pending: list[dict[str, Any]],
    state: AutoscalerState,
    now: datetime,
    policy: AutoscalerPolicy,
) -> tuple[list[Decision], AutoscalerState]:
    """One autoscaler step: scale-up decisions for unschedulable pods, otherwise at most one
    scale-down per pool. Returns the decisions and the next state."""
    st = state.model_copy(deep=True)
    scaling = [p for p in pools if p.autoscaling.enabled]
    decisions = _scale_up(scaling, nodes, [pod_need(p) for p in pending if is_unschedulable(p)], st, now)
    live = {n.name for n in nodes}
    st.under_since = {k: v for k, v in st.under_since.items() if k in live}
    if any(is_unschedulable(p) for p in pending):
        return decisions, st  # no scale-down while pods wait for room
    for pool in scaling:
        decision = _scale_down(pool, nodes, st, now, policy)
        if decision is not None:
            decisions.append(decision)
    return decisions, st


def _scale_up(
    pools: list[NodePool], nodes: list[NodeUsage], needs: list[PodNeed], st: AutoscalerState, now: datetime
) -> list[Decision]:
    decisions: list[Decision] = []
    waiting = {n.ref for n in needs}
    st.noted = {k: v for k, v in st.noted.items() if k in waiting}
    counts = {p.name: p.count for p in pools}
    left = _fit_existing(needs, nodes)
    used: set[str] = set()  # a pool packs once per step; its upcoming nodes are spoken for after that
    while left:
        best: tuple[int, float, str] | None = None
        choice: tuple[NodePool, list[PodNeed], int] | None = None
        for pool in pools:
            if pool.name in used:
                continue
            fitting = [n for n in left if not _fits_pool(n, pool)]
            if not fitting:
                continue
            present = sum(1 for n in nodes if n.pool == pool.name)
            upcoming = max(0, counts[pool.name] - present) + sum(
                1 for n in nodes if n.pool == pool.name and not n.ready
            )
            room = max(0, pool.autoscaling.max_count - counts[pool.name])
            placed, fresh, waste = _pack(fitting, pool, upcoming=upcoming, room=room)
            if not placed:
                continue
            key = (-len(placed), waste, pool.name)
            if best is None or key < best:
                best, choice = key, (pool, placed, fresh)
        if choice is None:
            break
        pool, placed, fresh = choice
        used.add(pool.name)
        placed_refs = {p.ref for p in placed}
        left = [n for n in left if n.ref not in placed_refs]
        if fresh == 0:
            continue  # nodes already on their way will take these pods
        before = counts[pool.name]
        counts[pool.name] = before + fresh
        st.last_scale_up[pool.name] = now
        refs = sorted(placed_refs)
        decisions.append(
            Decision(
                action="scale-up",
                pool=pool.name,
                before=before,
                after=before + fresh,
                pods=refs,
                reason=(
                    f"{len(refs)} unschedulable pod(s) ({_names(refs)}) fit flavour {pool.flavour.name}; "
                    f"adding {fresh} node(s) within bounds {pool.autoscaling.min_count}.."
                    f"{pool.autoscaling.max_count}"
                ),
            )
        )
    for need in left:
        reasons = [r for r in (_fits_pool(need, p) for p in pools) if r]
        full = [f"{p.name} ({counts[p.name]}/{p.autoscaling.max_count})" for p in pools if not _fits_pool(need, p)]
        if full:
            reasons.append("pools that fit are at their max: " + ", ".join(full))
        why = "; ".join(reasons) if pools else "no pool has autoscaling enabled"
        if st.noted.get(need.ref) == why:
            continue
        st.noted[need.ref] = why
        decisions.append(
            Decision(
                action="no-scale-up",
                pool="",
                before=0,
                after=0,
                pods=[need.ref],
                reason=f"pod {need.ref} cannot be helped: {why}",
            )
        )
    return decisions


def _fit_existing(needs: list[PodNeed], nodes: list[NodeUsage]) -> list[PodNeed]:
    """Pending pods that no existing Ready, schedulable node has room for (cluster-autoscaler's
    "filter out schedulable"): a pod the scheduler simply has not placed yet needs no new node.
    The node lifecycle controller's own taints (node.kubernetes.io/...) are ignored on a Ready node:
    they are lifted once it has seen the node Ready."""
    bins = [
        (n, _Bin(n.alloc_cpu - n.used_cpu, n.alloc_memory_gib - n.used_memory_gib))
        for n in nodes
        if n.ready and n.schedulable
    ]
    left: list[PodNeed] = []
    for need in sorted(needs, key=lambda n: (n.cpu, n.memory_gib), reverse=True):
        placed = False
        for node, room in bins:
            taints = [t for t in node.taints if not t.key.startswith(LIFECYCLE_TAINT_PREFIX)]
            if need.fits_labels(node.labels, taints) and room.take(need):
                placed = True
                break
        if not placed:
            left.append(need)
    return left


def _names(refs: list[str], limit: int = 3) -> str:
    return ", ".join(refs[:limit]) + (f" and {len(refs) - limit} more" if len(refs) > limit else "")


def _scale_down(
    pool: NodePool, nodes: list[NodeUsage], st: AutoscalerState, now: datetime, policy: AutoscalerPolicy
) -> Decision | None:
    mine = sorted((n for n in nodes if n.pool == pool.name), key=lambda n: n.name)
    for n in mine:
        if n.ready and n.utilisation < policy.scale_down_utilisation:
            st.under_since.setdefault(n.name, now)
        else:
            st.under_since.pop(n.name, None)
    if pool.count <= pool.autoscaling.min_count:
        return None
    added = st.last_scale_up.get(pool.name)
    if added is not None and (now - added).total_seconds() < policy.scale_down_delay_after_add_seconds:
        return None
    candidates = [
        n
        for n in mine
        if n.name in st.under_since
        and (now - st.under_since[n.name]).total_seconds() >= policy.scale_down_unneeded_seconds
    ]
    # emptiest first
    for node in sorted(candidates, key=lambda n: (n.utilisation, n.name)):
        blocker = _cannot_move(node, [n for n in nodes if n.name != node.name])
        if blocker:
            continue
        seconds = (now - st.under_since[node.name]).total_seconds()
        st.under_since.pop(node.name, None)
        return Decision(
            action="scale-down",
            pool=pool.name,
            before=pool.count,
            after=pool.count - 1,
            node=node.name,
            pods=sorted(p.ref for p in node.pods),
            reason=(
                f"node {node.name} utilisation {node.utilisation:.0%} (cpu {node.used_cpu:g}/"
                f"{node.alloc_cpu:g}, memory {node.used_memory_gib:.2f}/{node.alloc_memory_gib:.2f}Gi) below "
                f"{policy.scale_down_utilisation:.0%} for {seconds:.0f}s; "
                f"{len(node.pods)} pod(s) fit on other nodes; pool min {pool.autoscaling.min_count}"
            ),
        )
    return None


def _cannot_move(node: NodeUsage, others: list[NodeUsage]) -> str:
    bins = {
        o.name: _Bin(o.alloc_cpu - o.used_cpu, o.alloc_memory_gib - o.used_memory_gib)
        for o in others
        if o.ready and o.schedulable
    }
    by_name = {o.name: o for o in others}
    for need in sorted(node.pods, key=lambda n: (n.cpu, n.memory_gib), reverse=True):
        if not need.movable:
            return f"pod {need.ref} is not managed by a controller"
        if not any(
            need.fits_labels(by_name[name].labels, by_name[name].taints) and b.take(need) for name, b in bins.items()
        ):
            return f"pod {need.ref} fits on no other node"
    return ""
