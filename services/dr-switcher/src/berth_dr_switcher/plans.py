"""Switch plans: a switch of a group that has dependencies or linked followers moves the whole
set in dependency order. Each step switches one group and waits for it to answer its probes
on the new side before the next starts; a failed step stops the plan (the group it belongs to
refuses other switches until an operator resumes or rolls it back)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from berth_common.events import Envelope
from berth_common.store import AlreadyExists, Store
from berth_common.store.unit_of_work import update
from berth_schema import dr as m
from berth_schema.dr.spec import GroupSpec, SiteRole

from . import facts, groups, state
from .config import Deps
from .domain.events import Switched, SwitchFailed
from .domain.graph import DependencyError, switch_order
from .domain.group import DrGroup
from .domain.status import PendingSwitch
from .domain.switch_plan import PlanStep, SwitchPlan

log = logging.getLogger(__name__)


async def _no_heartbeat() -> None:
    return None


@dataclass
class Runner:
    """Where a plan runs: the store, the dependencies, the tenant and the message that caused it."""

    store: Store
    deps: Deps
    tenant: str
    cause: Envelope | None = None
    wake: Callable[[], None] = lambda: None
    heartbeat: Callable[[], Awaitable[None]] = field(default=_no_heartbeat)

    def now(self) -> Any:
        return self.deps.clock.now()


class PlanRefused(Exception):
    """A resume or rollback that cannot happen; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- starting ---------------------------------------------------------------------------------
async def carry_out(run: Runner, group: DrGroup, pending: PendingSwitch) -> None:
    """Carry out ``pending``, just started on ``group``: alone when no other group depends on
    it or follows it (and for drills), else as a plan over the linked set."""
    name = group.spec.name
    specs = await tenant_specs(run.store, run.tenant)
    specs[name] = group.spec
    try:
        order, missing = switch_order(name, specs)
    except DependencyError as exc:
        why = f"not attempted: {exc}"
        await groups.change(
            run.store,
            run.tenant,
            name,
            lambda g: _finish_root(g, pending.id, why, run.now()),
            cause=run.cause,
            idempotent=False,
            wake=run.wake,
        )
        return
    if order == [name] or pending.drill_id is not None:
        await groups.execute(run.store, run.deps, run.tenant, name, pending, group, cause=run.cause, wake=run.wake)
        return
    plan = SwitchPlan(
        id=pending.id,
        tenant=run.tenant,
        group=name,
        kind=pending.kind,
        to_site=pending.to_site,
        reason=pending.reason,
        requested_by=pending.requested_by,
        automatic=pending.automatic,
        started_at=run.now(),
        steps=[PlanStep(index=i, group=g, to_site=pending.to_site) for i, g in enumerate(order)],
        missing=missing,
    )
    plan.act("started", by=pending.requested_by, reason=pending.reason, at=plan.started_at)
    existing = await load(run.store, run.tenant, plan.id)
    if existing is None:
        try:
            await run.store.collection(state.PLANS).create(
                state.key(run.tenant, plan.id),
                _dump(plan),
                events=[_fact(plan, run, m.PlanStarted, reason=plan.reason)],
            )
        except AlreadyExists:
            existing = await load(run.store, run.tenant, plan.id)
    if existing is not None:
        plan = existing  # a redelivered command: carry on where it is
    budget = sum(specs[g].switch_timeout_seconds * 3 for g in order)
    await groups.change(
        run.store,
        run.tenant,
        name,
        lambda g: g.attach_plan(pending.id, plan.id, budget_seconds=budget),
        cause=run.cause,
        idempotent=False,
        wake=run.wake,
    )
    run.wake()
    await _run(run, plan, by=plan.requested_by)


async def tenant_specs(store: Store, tenant: str) -> dict[str, GroupSpec]:
    col = store.collection(state.GROUPS)
    out: dict[str, GroupSpec] = {}
    after: str | None = None
    while True:
        page = await col.list(where={"tenant": tenant}, after=after, limit=500)
        for rec in page:
            out[rec.data["name"]] = GroupSpec.model_validate(rec.data["spec"])
        if len(page) < 500:
            return out
        after = page[-1].key


# --- running ----------------------------------------------------------------------------------
async def _run(run: Runner, plan: SwitchPlan, *, by: str) -> None:
    for step in plan.steps:
        if step.state in ("done", "skipped"):
            continue
        if not await _step(run, plan, step, by=by):
            await _stopped(run, plan)
            return
    plan.state, plan.finished_at = "done", run.now()
    plan.act("finished", by="dr-switcher", reason="every step done", at=plan.finished_at)
    await _save(run, plan, _finished(plan, run, "done"))


async def _step(run: Runner, plan: SwitchPlan, step: PlanStep, *, by: str) -> bool:
    """One group: switch it (unless its traffic is already there), then wait for its health
    on the new side. False when the step failed (``plan.fail`` says why)."""
    rec = await run.store.collection(state.GROUPS).get(state.key(run.tenant, step.group))
    if rec is None:
        plan.fail(step, f"DR group {step.group} no longer exists", at=run.now())
        return False
    group = state.load(rec.data)
    step.attempts += 1
    step.state, step.started_at, step.detail = "running", run.now(), ""
    step.traffic_at = step.healthy_at = step.finished_at = None
    if step.from_site is None:
        step.from_site = group.status.active
    await _save(run, plan)
    await run.heartbeat()
    pending = group.status.pending
    already = False
    if pending is not None and pending.id == plan.id:
        pass  # the switch the plan carries out, started before the plan
    elif pending is None and group.status.active == step.to_site:
        already = True
    else:
        switch_id = plan.id + f"/{step.group}" + (f"/{step.attempts}" if step.attempts > 1 else "")
        out = await groups.change(
            run.store,
            run.tenant,
            step.group,
            lambda g: g.request(
                plan.kind if step.group == plan.group else "switchover",
                to=step.to_site,
                reason=_reason(plan, step),
                requested_by=by,
                switch_id=switch_id,
                now=run.now(),
                plan_id=plan.id,
            ),
            cause=run.cause,
            idempotent=False,
            wake=run.wake,
        )
        if out.refused is not None:
            plan.fail(step, f"refused: {out.refused}", at=run.now())
            return False
        pending, group = out.group.status.pending, out.group
        if pending is None or pending.id != switch_id:
            plan.fail(step, "the switch did not start", at=run.now())
            return False
    if already:
        step.detail = f"traffic was already on the {step.to_site} site"
    else:
        assert pending is not None
        step.switch_id = pending.id
        done = await groups.execute(
            run.store, run.deps, run.tenant, step.group, pending, group, cause=run.cause, wake=run.wake
        )
        moved = [e for e in done.events if isinstance(e, Switched)]
        if not moved:
            failed = [e.reason for e in done.events if isinstance(e, SwitchFailed)]
            plan.fail(step, failed[0] if failed else "the switch did not complete", at=run.now())
            return False
        step.traffic_at, step.detail = run.now(), moved[0].detail
    await _save(run, plan)
    healthy, detail = await wait_healthy(run, group.spec, step.to_site)
    now = run.now()
    if not healthy:
        plan.fail(
            step,
            f"traffic is on the {step.to_site} site {group.spec.site(step.to_site).name} but it did not answer its "
            f"probes within {group.spec.switch_timeout_seconds:g}s: {detail}",
            at=now,
        )
        return False
    step.healthy_at = step.finished_at = now
    step.state = "skipped" if already else "done"
    step.detail = f"{step.detail}; {detail}" if step.detail else detail
    await _save(run, plan)
    return True


async def wait_healthy(run: Runner, spec: GroupSpec, role: SiteRole) -> tuple[bool, str]:
    """Probe ``role``'s site directly until one round passes or switch_timeout_seconds end."""
    site = spec.site(role)
    deadline = time.monotonic() + spec.switch_timeout_seconds
    while True:
        rnd = await run.deps.prober.probe_site(site, within=spec.probe.timeout_seconds, now=run.now())
        if rnd.ok:
            return True, f"site {site.name} answers its probes"
        if time.monotonic() >= deadline:
            return False, rnd.detail
        await run.heartbeat()
        await asyncio.sleep(spec.probe.interval_seconds)


def _reason(plan: SwitchPlan, step: PlanStep) -> str:
    if step.group == plan.group:
        return plan.reason
    root = plan.names.index(plan.group)
    role = "dependency of" if step.index < root else "follows"
    return f"{role} group {plan.group} ({plan.kind} to {plan.to_site}), plan {plan.id}: {plan.reason}"


async def _stopped(run: Runner, plan: SwitchPlan, *, rolling_back: bool = False) -> None:
    assert plan.failed_step is not None
    step = plan.steps[plan.failed_step]
    await _save(
        run,
        plan,
        _fact(
            plan,
            run,
            m.PlanFailed,
            step=step.index,
            step_group=step.group,
            reason=f"{plan.failure}; send resume or rollback",
            rolling_back=rolling_back,
        ),
    )
    now = run.now()
    await groups.change(
        run.store,
        run.tenant,
        plan.group,
        lambda g: _finish_root(g, plan.id, f"not attempted: plan stopped at {plan.failure}", now, stop=plan.id),
        cause=run.cause,
        idempotent=False,
        wake=run.wake,
    )


def _finish_root(g: DrGroup, switch_id: str, detail: str, now: Any, *, stop: str | None = None) -> None:
    """End the plan's own switch when the plan stopped before reaching it."""
    p = g.status.pending
    if p is not None and p.id == switch_id:
        g.complete(switch_id, ok=False, detail=detail, now=now)
    if stop is not None:
        g.stop_plan(stop)


# --- operators ------------------------------------------------------------------------------
async def resume(run: Runner, plan: SwitchPlan, *, by: str, reason: str) -> None:
    if plan.state != "failed":
        raise PlanRefused(f"switch plan {plan.id} is {plan.state}: only a stopped plan can be resumed")
    await _release(run, plan)
    plan.state, plan.failed_step, plan.failure = "running", None, None
    plan.act("resumed", by=by, reason=reason, at=run.now())
    await _save(run, plan, _fact(plan, run, m.PlanStarted, reason=reason, resumed=True))
    await _run(run, plan, by=by)


async def rollback(run: Runner, plan: SwitchPlan, *, by: str, reason: str) -> None:
    """Every group the plan moved goes back where it came from, in reverse order (forced: the
    operator asked for it; no health wait, the old side may be the failed one)."""
    if plan.state != "failed":
        raise PlanRefused(f"switch plan {plan.id} is {plan.state}: only a stopped plan can be rolled back")
    await _release(run, plan)
    plan.state = "rolling-back"
    plan.act("rollback", by=by, reason=reason, at=run.now())
    await _save(run, plan)
    for step in reversed(plan.steps):
        if step.state not in ("done", "failed") or step.from_site is None:
            continue
        if not await _back(run, plan, step, by=by, reason=reason):
            await _stopped(run, plan, rolling_back=True)
            return
    plan.state, plan.finished_at = "rolled-back", run.now()
    plan.act("finished", by=by, reason="rolled back", at=plan.finished_at)
    await _save(run, plan, _finished(plan, run, "rolled-back"))


async def _back(run: Runner, plan: SwitchPlan, step: PlanStep, *, by: str, reason: str) -> bool:
    assert step.from_site is not None
    rec = await run.store.collection(state.GROUPS).get(state.key(run.tenant, step.group))
    if rec is None:
        step.state, step.detail = "rolled-back", "the group no longer exists"
        return True
    group = state.load(rec.data)
    back_to = step.from_site
    if group.status.pending is None and group.status.active == back_to:
        step.state, step.detail = "rolled-back", f"traffic is on the {back_to} site"
        await _save(run, plan)
        return True
    switch_id = f"{plan.id}/{step.group}/back-{len(plan.actions)}"
    out = await groups.change(
        run.store,
        run.tenant,
        step.group,
        lambda g: g.request(
            "switchover",
            to=back_to,
            reason=f"rollback of plan {plan.id}: {reason}",
            requested_by=by,
            switch_id=switch_id,
            now=run.now(),
            force=True,
            plan_id=plan.id,
        ),
        cause=run.cause,
        idempotent=False,
        wake=run.wake,
    )
    pending = out.group.status.pending
    if out.refused is not None or pending is None or pending.id != switch_id:
        plan.fail(step, f"rollback refused: {out.refused}", at=run.now())
        return False
    await run.heartbeat()
    done = await groups.execute(
        run.store, run.deps, run.tenant, step.group, pending, out.group, cause=run.cause, wake=run.wake
    )
    moved = [e for e in done.events if isinstance(e, Switched)]
    if not moved:
        failed = [e.reason for e in done.events if isinstance(e, SwitchFailed)]
        plan.fail(step, f"rollback failed: {failed[0] if failed else 'the switch did not complete'}", at=run.now())
        return False
    step.state, step.finished_at = "rolled-back", run.now()
    step.detail = f"traffic back on the {back_to} site: {moved[0].detail}"
    await _save(run, plan)
    return True


async def _release(run: Runner, plan: SwitchPlan) -> None:
    await groups.change(
        run.store,
        run.tenant,
        plan.group,
        lambda g: g.clear_plan(plan.id),
        cause=run.cause,
        idempotent=False,
        wake=run.wake,
    )


# --- storage ----------------------------------------------------------------------------------
async def load(store: Store, tenant: str, plan_id: str) -> SwitchPlan | None:
    rec = await store.collection(state.PLANS).get(state.key(tenant, plan_id))
    return SwitchPlan.model_validate(rec.data["plan"]) if rec is not None else None


def _dump(plan: SwitchPlan) -> dict[str, Any]:
    return {"tenant": plan.tenant, "group": plan.group, "plan": plan.model_dump(mode="json")}


async def _save(run: Runner, plan: SwitchPlan, *events: Envelope) -> None:
    await update(
        run.store.collection(state.PLANS),
        state.key(run.tenant, plan.id),
        lambda _data: _dump(plan),
        caused_by=None,
        events_for=lambda _before, _after: list(events),
        initial={},
    )
    if events:
        run.wake()


def _fact(plan: SwitchPlan, run: Runner, cls: Any, **extra: Any) -> Envelope:
    payload = cls(
        group=plan.group,
        plan_id=plan.id,
        kind=plan.kind,
        to_site=plan.to_site,
        steps=plan.names,
        requested_by=plan.requested_by,
        automatic=plan.automatic,
        **extra,
    )
    return facts.envelope(payload, tenant=run.tenant, group=plan.group, cause=run.cause)


def _finished(plan: SwitchPlan, run: Runner, result: str) -> Envelope:
    end = plan.finished_at or run.now()
    ms = round((end - plan.started_at).total_seconds() * 1000, 1)
    return _fact(plan, run, m.PlanFinished, result=result, duration_ms=ms)
