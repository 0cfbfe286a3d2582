"""Drain planning and progress: which pods to evict, which to skip (DaemonSet, mirror), which
refuse the drain (bare pods without force), and a per-pod record that becomes the final report.

The API server enforces PodDisruptionBudgets (an eviction that would break one gets 429); the
progress tracker retries those until the deadline and reports each pod that never left."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from berth_schema.node.drain import (
    DrainOptions as DrainOptions,
)
from berth_schema.node.drain import (
    DrainOutcome as DrainOutcome,
)
from berth_schema.node.drain import (
    DrainReport as DrainReport,
)
from berth_schema.node.drain import (
    PodOutcome as PodOutcome,
)
from berth_schema.node.drain import (
    PodReport as PodReport,
)

from .selectors import selector_matches

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


@dataclass(frozen=True, slots=True, order=True)
class PodRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def pod_ref(pod: dict[str, Any]) -> PodRef:
    meta = pod["metadata"]
    return PodRef(meta.get("namespace", "default"), meta["name"])


def controller_of(pod: dict[str, Any]) -> dict[str, Any] | None:
    for owner in pod.get("metadata", {}).get("ownerReferences") or []:
        if owner.get("controller"):
            return dict(owner)
    return None


def is_mirror(pod: dict[str, Any]) -> bool:
    return MIRROR_ANNOTATION in (pod.get("metadata", {}).get("annotations") or {})


def is_daemonset_pod(pod: dict[str, Any]) -> bool:
    owner = controller_of(pod)
    return owner is not None and owner.get("kind") == "DaemonSet"


def is_finished(pod: dict[str, Any]) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def _uses_emptydir(pod: dict[str, Any]) -> bool:
    return any("emptyDir" in v for v in pod.get("spec", {}).get("volumes") or [])


@dataclass(frozen=True, slots=True)
class DrainPlan:
    node: str
    evict: list[PodRef]
    skipped: list[PodReport]
    refused: list[PodReport]

    @property
    def refused_reason(self) -> str:
        return "; ".join(f"{p.namespace}/{p.name}: {p.reason}" for p in self.refused)


def plan_drain(node: str, pods: list[dict[str, Any]], options: DrainOptions) -> DrainPlan:
    """What ``kubectl drain --ignore-daemonsets --delete-emptydir-data`` would do, as data."""
    evict: list[PodRef] = []
    skipped: list[PodReport] = []
    refused: list[PodReport] = []
    for pod in pods:
        ref = pod_ref(pod)
        if pod.get("metadata", {}).get("deletionTimestamp") and is_finished(pod):
            skipped.append(
                PodReport(
                    namespace=ref.namespace,
                    name=ref.name,
                    outcome="skipped",
                    reason="already terminated and being deleted",
                )
            )
            continue
        if is_mirror(pod):
            skipped.append(
                PodReport(
                    namespace=ref.namespace,
                    name=ref.name,
                    outcome="skipped",
                    reason="mirror pod (a static pod the kubelet manages)",
                )
            )
            continue
        if is_daemonset_pod(pod):
            if options.ignore_daemonsets:
                skipped.append(
                    PodReport(
                        namespace=ref.namespace,
                        name=ref.name,
                        outcome="skipped",
                        reason="DaemonSet pod (its controller would recreate it on the node)",
                    )
                )
            else:
                refused.append(
                    PodReport(
                        namespace=ref.namespace,
                        name=ref.name,
                        outcome="refused",
                        reason="DaemonSet-managed pod; set ignore_daemonsets to skip it",
                    )
                )
            continue
        if controller_of(pod) is None and not is_finished(pod) and not options.force:
            refused.append(
                PodReport(
                    namespace=ref.namespace,
                    name=ref.name,
                    outcome="refused",
                    reason="not managed by a controller (it would be lost); set force to evict",
                )
            )
            continue
        if _uses_emptydir(pod) and not options.delete_emptydir_data:
            refused.append(
                PodReport(
                    namespace=ref.namespace,
                    name=ref.name,
                    outcome="refused",
                    reason="uses emptyDir local data; set delete_emptydir_data to evict",
                )
            )
            continue
        evict.append(ref)
    return DrainPlan(node=node, evict=sorted(evict), skipped=skipped, refused=refused)


def budgets_covering(pod: dict[str, Any], pdbs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The PodDisruptionBudgets in the pod's namespace whose selector matches it."""
    ns = pod["metadata"].get("namespace", "default")
    labels = pod["metadata"].get("labels") or {}
    return [
        b
        for b in pdbs
        if b["metadata"].get("namespace", "default") == ns
        and selector_matches(b.get("spec", {}).get("selector"), labels)
    ]


@dataclass
class _PodState:
    outcome: PodOutcome = "pending"
    reason: str = ""
    attempts: int = 0
    next_attempt: datetime | None = None


@dataclass
class DrainProgress:
    """Per-pod drain state driven by an adapter: which evictions are due now, what each returned."""

    plan: DrainPlan
    started: datetime
    options: DrainOptions
    _pods: dict[PodRef, _PodState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._pods = {ref: _PodState() for ref in self.plan.evict}

    @property
    def deadline(self) -> datetime:
        return self.started + timedelta(seconds=self.options.timeout_seconds)

    def due(self, now: datetime) -> list[PodRef]:
        """Pods whose (next) eviction attempt is due: never tried, or blocked and past their backoff."""
        return [
            ref
            for ref, st in self._pods.items()
            if st.outcome in ("pending", "blocked") and (st.next_attempt is None or st.next_attempt <= now)
        ]

    def waiting(self) -> list[PodRef]:
        """Pods whose eviction was accepted but which still exist."""
        return [ref for ref, st in self._pods.items() if st.outcome == "terminating"]

    def accepted(self, ref: PodRef) -> None:
        st = self._pods[ref]
        st.attempts += 1
        st.outcome, st.reason = "terminating", "eviction accepted; waiting for the pod to terminate"

    def blocked(self, ref: PodRef, now: datetime, reason: str) -> None:
        st = self._pods[ref]
        st.attempts += 1
        st.outcome, st.reason = "blocked", reason
        st.next_attempt = now + timedelta(seconds=self.options.retry_seconds)

    def failed(self, ref: PodRef, reason: str) -> None:
        st = self._pods[ref]
        st.attempts += 1
        st.outcome, st.reason = "failed", reason

    def gone(self, ref: PodRef) -> None:
        st = self._pods[ref]
        st.outcome, st.reason = "evicted", ""

    @property
    def finished(self) -> bool:
        return all(st.outcome in ("evicted", "failed") for st in self._pods.values())

    def timed_out(self, now: datetime) -> bool:
        return now >= self.deadline

    def report(self, now: datetime) -> DrainReport:
        seconds = (now - self.started).total_seconds()
        pods = [*self.plan.skipped, *self.plan.refused]
        for ref, st in sorted(self._pods.items()):
            reason = st.reason
            if st.outcome in ("blocked", "terminating", "pending") and now >= self.deadline:
                reason = f"{reason or 'not evicted'} (timed out after {self.options.timeout_seconds:g}s)"
            pods.append(
                PodReport(
                    namespace=ref.namespace, name=ref.name, outcome=st.outcome, reason=reason, attempts=st.attempts
                )
            )
        outcome: DrainOutcome
        if self.plan.refused:
            outcome = "refused"
        elif self.finished:
            outcome = "failed" if any(st.outcome == "failed" for st in self._pods.values()) else "drained"
        else:
            outcome = "timed-out"
        return DrainReport(node=self.plan.node, outcome=outcome, seconds=round(seconds, 3), pods=pods)
