"""Command handlers and the prober loop of dr-switcher, declared on the app."""

from __future__ import annotations

from typing import Any

from berth_common.bus import Context, Poison
from berth_common.runtime import ServiceApp
from berth_common.store import AlreadyExists, NotFound
from berth_common.store.unit_of_work import update
from berth_schema.dr import (
    CreateGroup,
    DeleteGroup,
    Drill,
    Failback,
    GroupCreated,
    GroupDeleted,
    GroupUpdated,
    Resume,
    Rollback,
    Switchover,
    UpdateGroup,
)
from berth_schema.dr.spec import GroupSpec

from . import facts, groups, plans, state
from .app import app
from .config import deps
from .domain.graph import DependencyError, check_dependencies
from .domain.group import DrGroup
from .domain.status import SwitchKind
from .domain.switch_plan import SwitchPlan
from .prober import ProberLoop


# --- lifecycle ----------------------------------------------------------------------------
@app.background
async def prober_loop(a: ServiceApp) -> None:
    await ProberLoop(a.store, deps, wake=a.wake_relay).run()


@app.on_shutdown
async def _close(a: ServiceApp) -> None:
    await deps.prober.close()


# --- group documents ----------------------------------------------------------------------
async def _check_dependencies(tenant: str, spec: GroupSpec) -> None:
    """Refuse (dead letter naming the field) a depends_on naming a missing group or closing a cycle."""
    if not spec.depends_on:
        return  # nothing of this group can close a cycle through it
    try:
        check_dependencies(spec, await plans.tenant_specs(app.store, tenant), tenant=tenant)
    except DependencyError as exc:
        raise Poison(str(exc)) from None


@app.handler(CreateGroup)
async def create_group(cmd: CreateGroup, ctx: Context) -> None:
    spec = cmd.spec
    rec = await app.store.collection(state.GROUPS).get(state.key(cmd.tenant, spec.name))
    if rec is None or not rec.has_applied(ctx.envelope.id):
        await _check_dependencies(cmd.tenant, spec)
    now = deps.clock.now()
    group = DrGroup.create(spec, now=now)
    events = [
        facts.envelope(
            GroupCreated(
                group=spec.name, primary=spec.primary.name, standby=spec.standby.name, requested_by=cmd.requested_by
            ),
            tenant=cmd.tenant,
            group=spec.name,
            cause=ctx.envelope,
        ),
        *facts.envelopes(group.events, tenant=cmd.tenant, group=spec.name, cause=ctx.envelope),
    ]
    data = state.dump(group, tenant=cmd.tenant, into={"created_at": now.isoformat(), "created_by": cmd.requested_by})
    col = app.store.collection(state.GROUPS)
    try:
        await col.create(state.key(cmd.tenant, spec.name), data, events=events, caused_by=ctx.envelope.id)
    except AlreadyExists:
        rec = await col.get(state.key(cmd.tenant, spec.name))
        if rec is not None and rec.has_applied(ctx.envelope.id):
            return
        raise Poison(f"DR group {spec.name} already exists in tenant {cmd.tenant}; use update-group") from None
    app.wake_relay()


@app.handler(UpdateGroup)
async def update_group(cmd: UpdateGroup, ctx: Context) -> None:
    spec = cmd.spec
    if spec.name != cmd.group:
        raise Poison(f"spec.name {spec.name!r} differs from group {cmd.group!r} (a group cannot be renamed)")
    await _check_dependencies(cmd.tenant, spec)
    now = deps.clock.now()

    def mutate(data: dict[str, Any]) -> None:
        group = state.load(data)
        group.spec = spec
        state.dump(group, tenant=cmd.tenant, into=data)
        data.update(updated_at=now.isoformat(), updated_by=cmd.requested_by)

    def events(before: Any, after: Any) -> list[Any]:
        return [
            facts.envelope(
                GroupUpdated(group=cmd.group, requested_by=cmd.requested_by),
                tenant=cmd.tenant,
                group=cmd.group,
                cause=ctx.envelope,
            )
        ]

    try:
        await update(
            app.store.collection(state.GROUPS),
            state.key(cmd.tenant, cmd.group),
            mutate,
            caused_by=ctx.envelope.id,
            events_for=events,
        )
    except NotFound:
        raise Poison(f"DR group {cmd.group} not found in tenant {cmd.tenant}") from None
    app.wake_relay()


@app.handler(DeleteGroup)
async def delete_group(cmd: DeleteGroup, ctx: Context) -> None:
    col = app.store.collection(state.GROUPS)
    rec = await col.get(state.key(cmd.tenant, cmd.group))
    if rec is None:
        return  # deleting what is gone is done
    needed_by = sorted(
        n for n, s in (await plans.tenant_specs(app.store, cmd.tenant)).items() if cmd.group in s.depends_on
    )
    if needed_by:
        raise Poison(
            f"DR group {cmd.group} is a dependency of {', '.join(needed_by)} (their spec.depends_on): "
            "remove it there first"
        )
    fact = facts.envelope(
        GroupDeleted(group=cmd.group, requested_by=cmd.requested_by),
        tenant=cmd.tenant,
        group=cmd.group,
        cause=ctx.envelope,
    )
    try:
        await col.delete(state.key(cmd.tenant, cmd.group), expected_version=rec.version, events=[fact])
    except NotFound:
        return
    app.wake_relay()


# --- switching ----------------------------------------------------------------------------
async def _switch(
    kind: SwitchKind,
    cmd: Switchover | Failback | Drill,
    ctx: Context,
    *,
    to: Any = None,
    force: bool = False,
    drill_seconds: float | None = None,
) -> None:
    switch_id = ctx.envelope.id
    now = deps.clock.now()

    def request(g: DrGroup) -> None:
        g.request(
            kind,
            reason=cmd.reason,
            requested_by=cmd.requested_by,
            switch_id=switch_id,
            now=now,
            to=to,
            force=force,
            drill_seconds=drill_seconds,
        )

    try:
        out = await groups.change(app.store, cmd.tenant, cmd.group, request, cause=ctx.envelope, wake=app.wake_relay)
    except NotFound:
        raise Poison(f"DR group {cmd.group} not found in tenant {cmd.tenant}") from None
    pending = out.group.status.pending
    if pending is None or pending.id != switch_id:
        return  # refused (a switch-failed fact says why), or already done on an earlier delivery
    await ctx.in_progress()
    await plans.carry_out(_runner(cmd.tenant, ctx), out.group, pending)


def _runner(tenant: str, ctx: Context) -> plans.Runner:
    return plans.Runner(app.store, deps, tenant, cause=ctx.envelope, wake=app.wake_relay, heartbeat=ctx.in_progress)


@app.handler(Switchover, ack_wait=60)
async def switchover(cmd: Switchover, ctx: Context) -> None:
    await _switch("switchover", cmd, ctx, to=cmd.to, force=cmd.force)


@app.handler(Failback, ack_wait=60)
async def failback(cmd: Failback, ctx: Context) -> None:
    await _switch("failback", cmd, ctx, force=cmd.force)


@app.handler(Drill, ack_wait=60)
async def drill(cmd: Drill, ctx: Context) -> None:
    await _switch("drill", cmd, ctx, drill_seconds=cmd.duration_seconds)


# --- stopped plans ------------------------------------------------------------------------
async def _stopped_plan(cmd: Resume | Rollback) -> SwitchPlan:
    plan_id = cmd.plan
    if plan_id is None:
        rec = await app.store.collection(state.GROUPS).get(state.key(cmd.tenant, cmd.group))
        if rec is None:
            raise Poison(f"DR group {cmd.group} not found in tenant {cmd.tenant}")
        plan_id = state.load(rec.data).status.stopped_plan
        if plan_id is None:
            raise Poison(f"DR group {cmd.group} has no stopped switch plan")
    plan = await plans.load(app.store, cmd.tenant, plan_id)
    if plan is None or cmd.group not in plan.names:
        raise Poison(f"plan: no switch plan {plan_id} of DR group {cmd.group} in tenant {cmd.tenant}")
    return plan


@app.handler(Resume, ack_wait=60)
async def resume(cmd: Resume, ctx: Context) -> None:
    plan = await _stopped_plan(cmd)
    await ctx.in_progress()
    try:
        await plans.resume(_runner(cmd.tenant, ctx), plan, by=cmd.requested_by, reason=cmd.reason)
    except plans.PlanRefused as exc:
        raise Poison(exc.reason) from None


@app.handler(Rollback, ack_wait=60)
async def rollback(cmd: Rollback, ctx: Context) -> None:
    plan = await _stopped_plan(cmd)
    await ctx.in_progress()
    try:
        await plans.rollback(_runner(cmd.tenant, ctx), plan, by=cmd.requested_by, reason=cmd.reason)
    except plans.PlanRefused as exc:
        raise Poison(exc.reason) from None
