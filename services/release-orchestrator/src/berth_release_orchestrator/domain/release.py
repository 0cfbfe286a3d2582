"""A release: one revision of an application rolled out by a strategy.

The release is a state machine the runner drives. Each tick the runner asks
``desired(release, now)`` what the cluster should look like for the current step (objects
to apply, objects to delete, Deployments that must be Available, a metric to measure),
makes it so, and hands what it saw to ``advance(release, now, seen)``, which moves the
release on and returns the facts to publish. Commands (promote, rollback, abort) change
the release through ``promote`` / ``begin_rollback``. Nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from berth_schema.release import (
    AnalysisFailed,
    AnalysisPassed,
    ReleasePromoted,
    ReleaseRequested,
    ReleaseRolledBack,
    StepStarted,
    WeightChanged,
)
from berth_schema.release.analysis import AnalysisSpec
from berth_schema.release.strategy import AnalysisStep, BlueGreen, Canary, PauseStep, Rolling, SetWeightStep, Strategy
from berth_schema.release.workload import WorkloadSpec
from pydantic import BaseModel, Field

from . import manifests as mf
from .analysis import AnalysisRun, Measurement
from .errors import Invalid
from .strategy import describe, parse_strategy

Phase = Literal["progressing", "paused", "rolling-back", "promoted", "rolled-back", "aborted", "failed"]
ACTIVE: tuple[str, ...] = ("progressing", "paused", "rolling-back")
StepKind = Literal[
    "rollout", "canary-deploy", "set-weight", "pause", "analysis", "promote", "remove-canary",
    "deploy-preview", "switch", "scale-down",
]  # fmt: skip
HISTORY = 20

Fact = BaseModel


class StepState(BaseModel):
    kind: StepKind
    name: str
    weight: int | None = None
    pause_seconds: float | None = None
    analysis: AnalysisSpec | None = None
    status: Literal["pending", "running", "done", "skipped"] = "pending"
    started_at: datetime | None = None
    finished_at: datetime | None = None


class RevisionEntry(BaseModel):
    revision: int
    image: str
    strategy: str
    phase: str
    workload: dict[str, Any] | None = None
    manifests: list[dict[str, Any]] = Field(default_factory=list)
    created_at: datetime
    finished_at: datetime | None = None
    rollback_of: int | None = None
    reason: str = ""


class Release(BaseModel):
    tenant: str
    name: str
    cluster: str
    namespace: str
    environment: str = "prod"
    revision: int = 1
    template: str | None = None
    template_version: int | None = None
    kind: Literal["workload", "chart"] = "workload"
    workload: WorkloadSpec | None = None
    manifests: list[dict[str, Any]] = Field(default_factory=list)
    strategy: dict[str, Any]
    stable: WorkloadSpec | None = None  # what served traffic before this revision
    stable_manifests: list[dict[str, Any]] = Field(default_factory=list)
    stable_revision: int | None = None
    color: Literal["blue", "green"] | None = None  # blue-green: the colour this revision runs as
    active_color: Literal["blue", "green"] | None = None  # the colour the active Service selects now
    old_color: Literal["blue", "green"] | None = None  # the colour that served before this revision
    phase: Phase = "progressing"
    steps: list[StepState] = Field(default_factory=list)
    step_index: int = 0
    weight: int = 0
    analysis_runs: list[AnalysisRun] = Field(default_factory=list)
    switched_at: datetime | None = None
    reason: str = ""
    aborted: bool = False
    rollback_of: int | None = None
    requested_by: str = ""
    correlationid: str | None = None
    warnings: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    history: list[RevisionEntry] = Field(default_factory=list)

    # --- derived --------------------------------------------------------------------
    @property
    def strat(self) -> Strategy:
        return parse_strategy(self.strategy)

    @property
    def active(self) -> bool:
        return self.phase in ACTIVE

    @property
    def image(self) -> str:
        if self.workload is not None:
            return self.workload.image
        return _first_image(self.manifests)

    @property
    def stable_image(self) -> str:
        if self.stable is not None:
            return self.stable.image
        return _first_image(self.stable_manifests)

    @property
    def current(self) -> StepState | None:
        return self.steps[self.step_index] if 0 <= self.step_index < len(self.steps) else None

    def fact_base(self) -> dict[str, Any]:
        return {"release": self.name, "revision": self.revision, "cluster": self.cluster, "namespace": self.namespace}

    def requested_fact(self) -> ReleaseRequested:
        return ReleaseRequested(
            **self.fact_base(),
            strategy=self.strategy.get("kind", "rolling"),
            image=self.image,
            steps=[s.name for s in self.steps],
            requested_by=self.requested_by,
            rollback_of=self.rollback_of,
        )

    def view(self) -> dict[str, Any]:
        """What get-release shows: steps, current weight, analysis runs, history."""
        data = self.model_dump(mode="json", exclude={"manifests", "stable_manifests"})
        data["image"] = self.image
        data["stable_image"] = self.stable_image
        data["current_step"] = self.current.name if self.current and self.active else None
        for h in data["history"]:
            h.pop("manifests", None)
        return data


def _first_image(objs: list[dict[str, Any]]) -> str:
    for o in objs:
        if o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
            containers = o.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
            if containers:
                return str(containers[0].get("image", ""))
    return ""


# --- planning a new revision -----------------------------------------------------------
def plan_steps(strategy: Strategy, *, first: bool, kind: str) -> list[StepState]:
    if kind == "chart" or isinstance(strategy, Rolling):
        return [StepState(kind="rollout", name="rollout")]
    if isinstance(strategy, BlueGreen):
        steps = [StepState(kind="deploy-preview", name="deploy-preview")]
        if not first:
            if strategy.pre_promotion_analysis is not None:
                a = strategy.pre_promotion_analysis
                steps.append(StepState(kind="analysis", name=f"analysis {a.success_condition}", analysis=a))
            if not strategy.auto_promote:
                d = strategy.auto_promote_seconds
                name = f"pause {d:g}s" if d is not None else "pause (until promoted)"
                steps.append(StepState(kind="pause", name=name, pause_seconds=d))
        steps.append(StepState(kind="switch", name="switch"))
        if not first:
            steps.append(StepState(kind="scale-down", name=f"scale-down after {strategy.scale_down_delay_seconds:g}s"))
        return steps
    # canary: the first revision has no stable to split traffic with, so it rolls out directly
    if first:
        return [StepState(kind="rollout", name="rollout")]
    steps = [StepState(kind="canary-deploy", name="canary-deploy", weight=0)]
    for s in strategy.steps:
        if isinstance(s, SetWeightStep):
            steps.append(StepState(kind="set-weight", name=describe(s), weight=s.set_weight))
        elif isinstance(s, PauseStep):
            steps.append(StepState(kind="pause", name=describe(s), pause_seconds=s.pause.duration_seconds))
        elif isinstance(s, AnalysisStep):
            steps.append(StepState(kind="analysis", name=describe(s), analysis=s.analysis))
    steps.append(StepState(kind="promote", name="promote"))
    steps.append(StepState(kind="remove-canary", name="remove-canary"))
    return steps


def validate_release(*, kind: str, strategy: Strategy, workload: WorkloadSpec | None, previous: Release | None) -> None:
    errors: list[tuple[str, str]] = []
    if kind == "chart" and not isinstance(strategy, Rolling):
        errors.append(("strategy.kind", f"{strategy.kind} needs a workload template; chart releases roll out rolling"))
    if isinstance(strategy, Canary) and workload is not None and workload.ingress is None:
        errors.append(("workload.ingress", "a canary splits traffic at the ingress: give ingress.host"))
    if previous is not None:
        before = previous.strategy.get("kind", "rolling")
        bg_before, bg_now = before == "blue-green", strategy.kind == "blue-green"
        if bg_before != bg_now:
            errors.append(
                (
                    "strategy.kind",
                    f"release {previous.name} runs as {before}; switching between blue-green and "
                    f"{'rolling/canary' if bg_before else 'blue-green'} needs a new release name",
                )
            )
        if previous.kind != kind:
            errors.append(
                ("template", f"release {previous.name} is a {previous.kind} release; it cannot become {kind}")
            )
    if errors:
        raise Invalid(errors)


def new_revision(
    *,
    previous: Release | None,
    tenant: str,
    name: str,
    cluster: str,
    namespace: str,
    environment: str,
    kind: Literal["workload", "chart"],
    workload: WorkloadSpec | None,
    manifests: list[dict[str, Any]],
    strategy: Strategy,
    template: str | None,
    template_version: int | None,
    requested_by: str,
    correlationid: str | None,
    now: datetime,
    warnings: list[str],
    rollback_of: int | None = None,
) -> tuple[Release, list[Fact]]:
    """The next revision of ``name`` (revision 1 when there is none) and its first facts."""
    if previous is not None and previous.active:
        cur = previous.current
        raise Invalid(
            [
                (
                    "name",
                    f"release {name} revision {previous.revision} is still {previous.phase}"
                    f"{f' at step {previous.step_index + 1}/{len(previous.steps)} ({cur.name})' if cur else ''}; "
                    "promote, abort or roll it back first",
                )
            ]
        )
    if previous is not None and (previous.cluster, previous.namespace) != (cluster, namespace):
        raise Invalid(
            [("cluster", f"release {name} lives in {previous.cluster}/{previous.namespace}; use another name")]
        )
    validate_release(kind=kind, strategy=strategy, workload=workload, previous=previous)
    stable, stable_manifests, stable_rev, active_color = None, [], None, None
    if previous is not None:
        if previous.phase == "promoted":
            stable, stable_manifests, stable_rev = previous.workload, previous.manifests, previous.revision
            active_color = previous.color
        else:  # rolled back / aborted / failed: what served before it still serves
            stable, stable_manifests, stable_rev = previous.stable, previous.stable_manifests, previous.stable_revision
            active_color = previous.active_color
    first = stable is None and not stable_manifests
    color: Literal["blue", "green"] | None = None
    if isinstance(strategy, BlueGreen):
        color = "blue" if active_color is None else mf.other(active_color)
    rel = Release(
        tenant=tenant,
        name=name,
        cluster=cluster,
        namespace=namespace,
        environment=environment,
        revision=(previous.revision + 1) if previous is not None else 1,
        template=template,
        template_version=template_version,
        kind=kind,
        workload=workload,
        manifests=manifests,
        strategy=strategy.model_dump(mode="json"),
        stable=stable,
        stable_manifests=stable_manifests,
        stable_revision=stable_rev,
        color=color,
        active_color=active_color,
        old_color=active_color,
        steps=plan_steps(strategy, first=first, kind=kind),
        weight=0,
        requested_by=requested_by,
        correlationid=correlationid,
        warnings=warnings,
        created_at=now,
        updated_at=now,
        rollback_of=rollback_of,
        history=list(previous.history) if previous is not None else [],
    )
    rel.history.append(
        RevisionEntry(
            revision=rel.revision,
            image=rel.image,
            strategy=strategy.kind,
            phase=rel.phase,
            workload=workload.model_dump(mode="json") if workload is not None else None,
            manifests=manifests,
            created_at=now,
            rollback_of=rollback_of,
        )
    )
    rel.history = rel.history[-HISTORY:]
    facts: list[Fact] = [rel.requested_fact(), *_start_step(rel, now)]
    return rel, facts


def revision_to_restore(rel: Release, to_revision: int | None) -> RevisionEntry:
    """The revision a finished release rolls back to: ``to_revision`` or the last promoted one before it."""
    if to_revision is not None:
        for h in rel.history:
            if h.revision == to_revision:
                if h.revision == rel.revision and rel.phase == "promoted":
                    raise Invalid([("to_revision", f"revision {to_revision} is the one running now")])
                if h.phase != "promoted":
                    raise Invalid([("to_revision", f"revision {to_revision} never went live ({h.phase})")])
                return h
        known = ", ".join(str(h.revision) for h in rel.history)
        raise Invalid([("to_revision", f"release {rel.name} has no revision {to_revision} (kept: {known})")])
    serving = rel.revision if rel.phase == "promoted" else rel.stable_revision
    for h in reversed(rel.history):
        if h.phase == "promoted" and serving is not None and h.revision < serving:
            return h
    raise Invalid([("to_revision", f"release {rel.name} has no earlier promoted revision to roll back to")])


def rollback_strategy(rel: Release) -> Strategy:
    """A finished release rolls back at once: rolling (or blue-green promoted without a pause)."""
    s = rel.strat
    if isinstance(s, BlueGreen):
        return BlueGreen(auto_promote=True, scale_down_delay_seconds=s.scale_down_delay_seconds)
    if isinstance(s, Canary):
        return Rolling(max_surge=s.max_surge, max_unavailable=s.max_unavailable)
    return s


# --- commands on a running release -------------------------------------------------------
def promote(rel: Release, *, full: bool, now: datetime) -> list[Fact]:
    """Resume a pause (or finish a running analysis); ``full`` skips to the promotion."""
    if not rel.active or rel.phase == "rolling-back":
        raise Invalid([("release", f"release {rel.name} revision {rel.revision} is {rel.phase}; nothing to promote")])
    cur = rel.current
    assert cur is not None
    if full:
        target = next(
            (i for i, s in enumerate(rel.steps) if s.kind in ("promote", "switch", "rollout")), len(rel.steps) - 1
        )
        for s in rel.steps[rel.step_index : max(target, rel.step_index)]:
            s.status, s.finished_at = "skipped", now
        for run in rel.analysis_runs:
            if run.status == "running":
                run.status, run.reason = "passed", "skipped by a full promote"
        if target <= rel.step_index:
            return []
        rel.step_index = target
        rel.phase = "progressing"
        rel.updated_at = now
        return _start_step(rel, now)
    if cur.kind not in ("pause", "analysis"):
        raise Invalid(
            [
                (
                    "full",
                    f"step {rel.step_index + 1}/{len(rel.steps)} ({cur.name}) is not a pause or analysis; "
                    "promote with full=true to skip every remaining step",
                )
            ]
        )
    if cur.kind == "analysis":
        for run in rel.analysis_runs:
            if run.index == rel.step_index and run.status == "running":
                run.status, run.reason = "passed", "skipped by promote"
    return _finish_step(rel, now)


def begin_rollback(rel: Release, *, reason: str, aborted: bool, now: datetime) -> None:
    if not rel.active:
        raise Invalid([("release", f"release {rel.name} revision {rel.revision} is {rel.phase}, not in progress")])
    if rel.phase == "rolling-back":
        return
    if rel.stable is None and not rel.stable_manifests and not aborted:
        raise Invalid([("release", f"release {rel.name} revision {rel.revision} is the first; abort stops it instead")])
    rel.phase = "rolling-back"
    rel.reason = reason
    rel.aborted = aborted
    rel.updated_at = now
    for run in rel.analysis_runs:
        if run.status == "running":
            run.status, run.reason = "failed", f"stopped: {reason}"


# --- what the cluster should look like ---------------------------------------------------
@dataclass
class Desired:
    apply: list[dict[str, Any]] = field(default_factory=list)
    delete: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    available: list[str] = field(default_factory=list)  # Deployments that must be Available
    scale: dict[str, int] = field(default_factory=dict)  # Deployment -> replicas (scale subresource)
    measure: AnalysisSpec | None = None


@dataclass
class Seen:
    available: bool = True
    not_available: list[str] = field(default_factory=list)
    measurement: Measurement | None = None


def _stable_objs(rel: Release, spec: WorkloadSpec, revision: int) -> list[dict[str, Any]]:
    s = rel.strat
    assert not isinstance(s, BlueGreen)
    ns, app = rel.namespace, rel.name
    sel = {mf.TRACK: "stable"}
    objs = [
        mf.deployment(
            app=app,
            name=app,
            namespace=ns,
            spec=spec,
            replicas=spec.replicas,
            selector=sel,
            revision=revision,
            max_surge=s.max_surge,
            max_unavailable=s.max_unavailable,
            progress_deadline_seconds=s.progress_deadline_seconds,
        ),
        mf.service(app=app, name=app, namespace=ns, spec=spec, selector=sel),
    ]
    if spec.ingress is not None:
        objs.append(mf.ingress(app=app, name=app, namespace=ns, spec=spec, service_name=app, annotations={}))
    return objs


def _canary_objs(
    rel: Release, weight: int, *, enabled: bool = True, replicas: int | None = None
) -> list[dict[str, Any]]:
    s = rel.strat
    assert isinstance(s, Canary) and rel.workload is not None
    spec, ns, app, name = rel.workload, rel.namespace, rel.name, mf.canary_name(rel.name)
    sel = {mf.TRACK: "canary"}
    n = (
        replicas
        if replicas is not None
        else mf.canary_replicas(total=spec.replicas, weight=weight, fixed=s.canary_replicas)
    )
    objs = [
        mf.deployment(
            app=app, name=name, namespace=ns, spec=spec, replicas=n, selector=sel, revision=rel.revision,
            progress_deadline_seconds=s.progress_deadline_seconds,
        ),
        mf.service(app=app, name=name, namespace=ns, spec=spec, selector=sel),
    ]  # fmt: skip
    if spec.ingress is not None:
        ann = mf.canary_annotations(
            traffic=s.traffic,
            weight=weight,
            header=s.header,
            header_value=s.header_value,
            cookie=s.cookie,
            enabled=enabled,
        )
        objs.append(mf.ingress(app=app, name=name, namespace=ns, spec=spec, service_name=name, annotations=ann))
    return objs


def _bg_objs(rel: Release, *, color: str, active: str, preview: str, replicas: int) -> list[dict[str, Any]]:
    s = rel.strat
    assert isinstance(s, BlueGreen) and rel.workload is not None
    spec, ns, app = rel.workload, rel.namespace, rel.name
    objs = [
        mf.deployment(
            app=app, name=mf.color_name(app, color), namespace=ns, spec=spec, replicas=replicas,
            selector={mf.COLOR: color}, revision=rel.revision, progress_deadline_seconds=s.progress_deadline_seconds,
        ),
        mf.service(app=app, name=app, namespace=ns, spec=spec, selector={mf.COLOR: active}),
        mf.service(app=app, name=mf.preview_name(app), namespace=ns, spec=spec, selector={mf.COLOR: preview}),
    ]  # fmt: skip
    if spec.ingress is not None:
        objs.append(mf.ingress(app=app, name=app, namespace=ns, spec=spec, service_name=app, annotations={}))
    return objs


def _deployments(objs: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in objs if o.get("kind") == "Deployment"]


def desired(rel: Release, now: datetime) -> Desired:
    if rel.phase == "rolling-back":
        return _desired_rollback(rel)
    cur = rel.current
    if cur is None or not rel.active:
        return Desired()
    app = rel.name
    if cur.kind == "rollout":
        if rel.kind == "chart":
            return Desired(apply=list(rel.manifests), available=_deployments(rel.manifests))
        assert rel.workload is not None
        if isinstance(rel.strat, BlueGreen):  # only rollbacks of blue-green use rollout
            raise AssertionError("blue-green revisions deploy a preview")
        return Desired(apply=_stable_objs(rel, rel.workload, rel.revision), available=[app])
    if cur.kind == "canary-deploy":
        return Desired(apply=_canary_objs(rel, 0), available=[mf.canary_name(app)])
    if cur.kind == "set-weight":
        assert cur.weight is not None
        return Desired(apply=_canary_objs(rel, cur.weight), available=[mf.canary_name(app)])
    if cur.kind == "analysis":
        assert cur.analysis is not None
        run = _run_for(rel, rel.step_index)
        return Desired(measure=cur.analysis if run is None or run.due(cur.analysis, now) else None)
    if cur.kind == "pause":
        return Desired()
    if cur.kind == "promote":
        assert rel.workload is not None
        return Desired(apply=_stable_objs(rel, rel.workload, rel.revision), available=[app])
    if cur.kind == "remove-canary":
        return Desired(
            scale={mf.canary_name(app): 0},
            delete=[("Ingress", mf.canary_name(app)), ("Service", mf.canary_name(app))],
        )
    s = rel.strat
    assert isinstance(s, BlueGreen) and rel.color is not None and rel.workload is not None
    color, old = rel.color, rel.old_color
    if cur.kind == "deploy-preview":
        replicas = s.preview_replicas or rel.workload.replicas
        return Desired(
            apply=_bg_objs(rel, color=color, active=old or color, preview=color, replicas=replicas),
            available=[mf.color_name(app, color)],
        )
    if cur.kind == "switch":
        return Desired(
            apply=_bg_objs(rel, color=color, active=color, preview=color, replicas=rel.workload.replicas),
            available=[mf.color_name(app, color)],
        )
    if cur.kind == "scale-down":
        assert old is not None
        due = rel.switched_at is not None and (now - rel.switched_at).total_seconds() >= s.scale_down_delay_seconds
        return Desired(scale={mf.color_name(app, old): 0} if due else {})
    raise AssertionError(f"unknown step kind {cur.kind}")


def _desired_rollback(rel: Release) -> Desired:
    app, ns = rel.name, rel.namespace
    if rel.kind == "chart":
        if not rel.stable_manifests:
            return Desired()
        return Desired(apply=list(rel.stable_manifests), available=_deployments(rel.stable_manifests))
    s = rel.strat
    if isinstance(s, BlueGreen):
        assert rel.color is not None and rel.workload is not None
        if rel.old_color is None or rel.stable is None:  # first revision aborted: stop its pods
            return Desired(scale={mf.color_name(app, rel.color): 0})
        old = rel.old_color
        objs = _bg_objs(rel, color=rel.color, active=old, preview=old, replicas=0)
        stable_dep = mf.deployment(
            app=app, name=mf.color_name(app, old), namespace=ns, spec=rel.stable, replicas=rel.stable.replicas,
            selector={mf.COLOR: old}, revision=rel.stable_revision or rel.revision - 1,
            progress_deadline_seconds=s.progress_deadline_seconds,
        )  # fmt: skip
        return Desired(apply=[stable_dep, *objs], available=[mf.color_name(app, old)])
    if rel.stable is None:  # first revision aborted: stop its pods
        return Desired(scale={app: 0})
    restore_stable = any(st.kind in ("rollout", "promote") and st.status != "pending" for st in rel.steps)
    out = Desired()
    if restore_stable:
        out.apply.extend(_stable_objs(rel, rel.stable, rel.stable_revision or rel.revision - 1))
        out.available.append(app)
    if isinstance(s, Canary) and any(st.kind == "canary-deploy" and st.status != "pending" for st in rel.steps):
        out.apply.extend(_canary_objs(rel, 0, enabled=False, replicas=0))
    return out


def _run_for(rel: Release, index: int) -> AnalysisRun | None:
    for run in reversed(rel.analysis_runs):
        if run.index == index:
            return run
    return None


# --- moving on -------------------------------------------------------------------------
def advance(rel: Release, now: datetime, seen: Seen) -> list[Fact]:
    """Fold what the runner saw into the release; return the facts to publish."""
    if rel.phase == "rolling-back":
        if not seen.available:
            return []
        return _finish_rollback(rel, now)
    cur = rel.current
    if cur is None or not rel.active:
        return []
    if not seen.available:
        deadline = rel.strat.progress_deadline_seconds
        since = cur.started_at or rel.updated_at
        if (now - since).total_seconds() > deadline:
            reason = f"progress deadline: {', '.join(seen.not_available)} not Available after {deadline}s"
            begin_rollback(rel, reason=reason, aborted=rel.stable is None and not rel.stable_manifests, now=now)
        return []
    if cur.kind == "pause":
        if cur.pause_seconds is None:
            rel.phase = "paused"
            return []
        assert cur.started_at is not None
        if (now - cur.started_at).total_seconds() < cur.pause_seconds:
            return []
        return _finish_step(rel, now)
    if cur.kind == "analysis":
        return _advance_analysis(rel, cur, now, seen)
    if cur.kind == "scale-down":
        s = rel.strat
        assert isinstance(s, BlueGreen)
        if rel.switched_at is None or (now - rel.switched_at).total_seconds() < s.scale_down_delay_seconds:
            return []
        return _finish_step(rel, now)
    facts: list[Fact] = []
    if cur.kind in ("canary-deploy", "set-weight") and cur.weight is not None and cur.weight != rel.weight:
        s = rel.strat
        assert isinstance(s, Canary)
        facts.append(WeightChanged(**rel.fact_base(), from_weight=rel.weight, to_weight=cur.weight, traffic=s.traffic))
        rel.weight = cur.weight
    if cur.kind == "switch":
        rel.switched_at = now
        rel.active_color = rel.color
        if rel.rollback_of is None:
            facts.append(ReleasePromoted(**rel.fact_base(), strategy="blue-green", image=rel.image))
    if cur.kind == "remove-canary":
        rel.weight = 0
    return facts + _finish_step(rel, now)


def _advance_analysis(rel: Release, cur: StepState, now: datetime, seen: Seen) -> list[Fact]:
    assert cur.analysis is not None
    run = _run_for(rel, rel.step_index)
    if run is None:
        run = AnalysisRun(index=rel.step_index, started_at=cur.started_at or now)
        rel.analysis_runs.append(run)
    if seen.measurement is not None and run.status == "running":
        run.record(cur.analysis, seen.measurement)
        rel.updated_at = now
    query = cur.analysis.rendered_query(app=rel.name, namespace=rel.namespace, release=rel.name)
    base = {
        **rel.fact_base(),
        "index": rel.step_index,
        "query": query,
        "success_condition": cur.analysis.success_condition,
        "measurements": [m.value for m in run.measurements],
        "failures": run.failures,
        "errors": run.errors,
    }
    if run.status == "passed":
        return [AnalysisPassed(**base), *_finish_step(rel, now)]
    if run.status == "failed":
        cur.status, cur.finished_at = "done", now
        begin_rollback(rel, reason=f"analysis failed: {run.reason}", aborted=False, now=now)
        return [AnalysisFailed(**base, reason=run.reason)]
    return []


def _start_step(rel: Release, now: datetime) -> list[Fact]:
    cur = rel.current
    if cur is None:
        return []
    cur.status, cur.started_at = "running", now
    rel.phase = "progressing"
    rel.updated_at = now
    step = f"{rel.step_index + 1}/{len(rel.steps)} {cur.name}"
    return [StepStarted(**rel.fact_base(), index=rel.step_index, step=step)]


def _finish_step(rel: Release, now: datetime) -> list[Fact]:
    cur = rel.current
    assert cur is not None
    cur.status, cur.finished_at = "done", now
    rel.step_index += 1
    rel.updated_at = now
    if rel.step_index < len(rel.steps):
        return _start_step(rel, now)
    return _complete(rel, now)


def _complete(rel: Release, now: datetime) -> list[Fact]:
    rel.phase = "promoted"
    rel.finished_at = now
    rel.weight = 0
    _history_phase(rel, now)
    kind = rel.strategy.get("kind", "rolling")
    if rel.rollback_of is not None:
        return [
            ReleaseRolledBack(
                **rel.fact_base(),
                reason=rel.reason or f"rolled back to revision {rel.rollback_of}",
                image=rel.image,
                to_revision=rel.rollback_of,
            )
        ]
    if kind == "blue-green":
        return []  # promoted was published when the active Service switched
    return [ReleasePromoted(**rel.fact_base(), strategy=kind, image=rel.image)]


def _finish_rollback(rel: Release, now: datetime) -> list[Fact]:
    rel.phase = "aborted" if rel.aborted else "rolled-back"
    rel.active_color = rel.old_color
    rel.finished_at = now
    rel.weight = 0
    for s in rel.steps:
        if s.status in ("pending", "running"):
            s.status, s.finished_at = "skipped", now
    _history_phase(rel, now)
    return [
        ReleaseRolledBack(
            **rel.fact_base(),
            reason=rel.reason,
            image=rel.stable_image if (rel.stable is not None or rel.stable_manifests) else "",
            aborted=rel.aborted,
            to_revision=rel.stable_revision,
        )
    ]


def _history_phase(rel: Release, now: datetime) -> None:
    for h in rel.history:
        if h.revision == rel.revision:
            h.phase, h.finished_at, h.reason = rel.phase, now, rel.reason
