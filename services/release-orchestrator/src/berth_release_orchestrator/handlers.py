"""Command handlers of release-orchestrator, declared on the app: releases (create,
promote, rollback, abort), scale-workload, the config center and templates."""

from __future__ import annotations

import logging
from typing import Any

from berth_common.bus import Context, Poison, Transient
from berth_common.runtime import ServiceApp
from berth_common.store import NotFound
from berth_common.store.unit_of_work import update
from berth_schema.release import (
    AbortRelease,
    ConfigChanged,
    CreateRelease,
    DeleteTemplate,
    PromoteRelease,
    PutTemplate,
    ReleaseFailed,
    RollbackConfig,
    RollbackRelease,
    ScaleWorkload,
    SetConfig,
    TemplateSaved,
    WorkloadScaled,
)
from berth_schema.release.configs import ConfigSpec
from kubernetes_asyncio.client.exceptions import ApiException
from pydantic import BaseModel

from . import state
from .adapters import helm
from .adapters.clusters import ClusterUnreachable
from .adapters.kube import KubeError
from .app import app
from .config import deps
from .domain import configs as cfgs
from .domain import manifests as mf
from .domain.errors import Invalid
from .domain.release import (
    Release,
    begin_rollback,
    new_revision,
    promote,
    revision_to_restore,
    rollback_strategy,
)
from .domain.templates import parse_template
from .domain.workload import best_practice_warnings, build_workload, check
from .runner import Runner

log = logging.getLogger(__name__)
_runner: Runner | None = None
KUBE_ERRORS = (KubeError, ClusterUnreachable, ApiException, OSError)


def runner() -> Runner:
    if _runner is None:
        raise RuntimeError("release-orchestrator is not started")
    return _runner


# --- lifecycle ----------------------------------------------------------------------------
@app.on_startup
async def _start(a: ServiceApp) -> None:
    global _runner
    deps.cluster_access()  # bootstrap() wired it; fail at start rather than at the first release
    _runner = Runner(a.store, deps, wake_relay=a.wake_relay)


@app.on_shutdown
async def _stop(a: ServiceApp) -> None:
    if _runner is not None:
        await _runner.release_lease()
    if deps.clusters is not None:
        await deps.clusters.close()


@app.background
async def step_runner(a: ServiceApp) -> None:
    await runner().run()


# --- helpers ------------------------------------------------------------------------------
async def _refuse(ctx: Context, release: str, exc: Invalid | str, *, revision: int | None = None) -> None:
    """Tell the caller (and the gateway operation) why a command was refused, naming each field."""
    errors = exc.as_dicts() if isinstance(exc, Invalid) else []
    fact = ReleaseFailed(release=release, reason=str(exc), errors=errors, revision=revision)
    await app.bus.emit(fact, **ctx.caused(subject=state.release_subject(release)))
    log.info("refused a command for %s: %s", release, exc)


def _events(ctx: Context, tenant: str, name: str, facts: list[BaseModel]) -> list[Any]:
    return state.envelopes(facts, **ctx.caused(tenant=tenant, subject=state.release_subject(name)))


def _after_write() -> None:
    app.wake_relay()
    runner().wake()


# --- releases -----------------------------------------------------------------------------
async def _spec_for(cmd: CreateRelease) -> tuple[str, Any, list[dict[str, Any]], int | None, list[str]]:
    """(kind, workload, manifests, template version, warnings) from the template and values."""
    if cmd.template and cmd.workload is not None:
        raise Invalid([("workload", "give a template or an inline workload, not both")])
    base = cmd.workload.model_dump(mode="json", exclude_unset=True) if cmd.workload is not None else None
    version = None
    if cmd.template:
        tpl = await state.find_template(app.store, cmd.tenant, cmd.template)
        if tpl is None:
            raise Invalid([("template", f"no template {cmd.template!r} visible to tenant {cmd.tenant}")])
        version = tpl.version
        if tpl.kind == "chart":
            assert tpl.chart is not None
            values = {**tpl.chart.values, **cmd.values}
            try:
                objs = await helm.render(
                    chart=tpl.chart.chart,
                    release=cmd.name,
                    namespace=cmd.namespace,
                    values=values,
                    repo=tpl.chart.repo,
                    version=tpl.chart.version,
                )
            except (helm.RenderFailed, helm.HelmMissing) as exc:
                raise Invalid([("template", str(exc))]) from None
            for o in objs:
                o.setdefault("metadata", {}).setdefault("labels", {})[mf.RELEASE] = cmd.name
            return "chart", None, objs, version, []
        base = tpl.workload
    elif base is None:
        raise Invalid([("template", "give a template name or an inline workload")])
    prefix = "values" if cmd.template else "workload"
    workload = build_workload(base, cmd.values, prefix=prefix)
    check(workload, environment=cmd.environment, prefix=prefix)
    return "workload", workload, [], version, best_practice_warnings(workload)


@app.handler(CreateRelease, concurrency=4)
async def create_release(cmd: CreateRelease, ctx: Context) -> None:
    col = app.store.collection(state.RELEASES)
    k = state.key(cmd.tenant, cmd.name)
    rec = await col.get(k)
    if rec is not None and rec.has_applied(ctx.envelope.id):
        return
    try:
        kind, workload, objs, tpl_version, warnings = await _spec_for(cmd)
    except Invalid as exc:
        await _refuse(ctx, cmd.name, exc)
        return
    facts: list[BaseModel] = []

    def mutate(data: dict[str, Any]) -> dict[str, Any]:
        previous = Release.model_validate(data) if data else None
        rel, new_facts = new_revision(
            previous=previous,
            tenant=cmd.tenant,
            name=cmd.name,
            cluster=cmd.cluster,
            namespace=cmd.namespace,
            environment=cmd.environment,
            kind="chart" if kind == "chart" else "workload",
            workload=workload,
            manifests=objs,
            strategy=cmd.strategy,
            template=cmd.template,
            template_version=tpl_version,
            requested_by=cmd.requested_by,
            correlationid=ctx.envelope.correlationid,
            now=deps.clock.now(),
            warnings=warnings,
        )
        facts[:] = new_facts
        return state.release_doc(rel)

    try:
        await update(
            col,
            k,
            mutate,
            caused_by=ctx.envelope.id,
            initial={},
            events_for=lambda b, a: _events(ctx, cmd.tenant, cmd.name, facts),
        )
    except Invalid as exc:
        await _refuse(ctx, cmd.name, exc)
        return
    _after_write()


async def _change_release(
    ctx: Context, tenant: str, name: str, change: Any, *, release_for_errors: str | None = None
) -> None:
    """Apply ``change(release) -> facts`` with compare-and-set; a refused change becomes a failed fact."""
    col = app.store.collection(state.RELEASES)
    facts: list[BaseModel] = []

    def mutate(data: dict[str, Any]) -> dict[str, Any]:
        rel = Release.model_validate(data)
        facts[:] = change(rel)
        return state.release_doc(rel)

    try:
        await update(
            col,
            state.key(tenant, name),
            mutate,
            caused_by=ctx.envelope.id,
            events_for=lambda b, a: _events(ctx, tenant, name, facts),
        )
    except NotFound:
        await _refuse(ctx, name, Invalid([("release", f"no release {name!r} in tenant {tenant}")]))
        return
    except Invalid as exc:
        await _refuse(ctx, release_for_errors or name, exc)
        return
    _after_write()


@app.handler(PromoteRelease)
async def promote_release(cmd: PromoteRelease, ctx: Context) -> None:
    await _change_release(ctx, cmd.tenant, cmd.release, lambda rel: promote(rel, full=cmd.full, now=deps.clock.now()))


@app.handler(AbortRelease)
async def abort_release(cmd: AbortRelease, ctx: Context) -> None:
    reason = f"aborted by {cmd.by or 'a user'}" + (f": {cmd.reason}" if cmd.reason else "")

    def change(rel: Release) -> list[BaseModel]:
        begin_rollback(rel, reason=reason, aborted=True, now=deps.clock.now())
        return []

    await _change_release(ctx, cmd.tenant, cmd.release, change)


@app.handler(RollbackRelease)
async def rollback_release(cmd: RollbackRelease, ctx: Context) -> None:
    col = app.store.collection(state.RELEASES)
    rel = state.load_release(await col.get(state.key(cmd.tenant, cmd.release)))
    if rel is None:
        await _refuse(ctx, cmd.release, Invalid([("release", f"no release {cmd.release!r} in tenant {cmd.tenant}")]))
        return
    reason = f"rolled back by {cmd.by or 'a user'}" + (f": {cmd.reason}" if cmd.reason else "")
    if rel.active:
        if cmd.to_revision is not None:
            err = Invalid([("to_revision", "a release in progress rolls back to what served before it")])
            await _refuse(ctx, cmd.release, err)
            return

        def change(r: Release) -> list[BaseModel]:
            begin_rollback(r, reason=reason, aborted=False, now=deps.clock.now())
            return []

        await _change_release(ctx, cmd.tenant, cmd.release, change)
        return
    facts: list[BaseModel] = []

    def mutate(data: dict[str, Any]) -> dict[str, Any]:
        current = Release.model_validate(data)
        target = revision_to_restore(current, cmd.to_revision)
        workload = build_workload(target.workload, {}) if target.workload is not None else None
        nxt, new_facts = new_revision(
            previous=current,
            tenant=current.tenant,
            name=current.name,
            cluster=current.cluster,
            namespace=current.namespace,
            environment=current.environment,
            kind=current.kind,
            workload=workload,
            manifests=target.manifests,
            strategy=rollback_strategy(current),
            template=current.template,
            template_version=current.template_version,
            requested_by=cmd.by,
            correlationid=ctx.envelope.correlationid,
            now=deps.clock.now(),
            warnings=[],
            rollback_of=target.revision,
        )
        nxt.reason = reason
        facts[:] = new_facts
        return state.release_doc(nxt)

    try:
        await update(
            col,
            state.key(cmd.tenant, cmd.release),
            mutate,
            caused_by=ctx.envelope.id,
            events_for=lambda b, a: _events(ctx, cmd.tenant, cmd.release, facts),
        )
    except Invalid as exc:
        await _refuse(ctx, cmd.release, exc)
        return
    _after_write()


# --- scale-workload (from monitor-alert's scaling policies) -------------------------------
@app.handler(ScaleWorkload)
async def scale_workload(cmd: ScaleWorkload, ctx: Context) -> None:
    col = app.store.collection(state.WORKLOADS)
    k = ":".join([cmd.tenant, cmd.cluster, cmd.namespace, cmd.kind, cmd.name])
    rec = await col.get(k)
    if rec is not None and rec.has_applied(ctx.envelope.id):
        return
    try:
        wl = await deps.cluster_access().workloads(cmd.tenant, cmd.cluster, cmd.namespace)
        previous = await wl.scale(cmd.kind, cmd.name, cmd.replicas)
    except KUBE_ERRORS as exc:
        raise Transient(f"scale {cmd.kind} {cmd.namespace}/{cmd.name} in {cmd.cluster}: {exc}") from None
    if previous is None:
        raise Poison(f"name: no {cmd.kind} {cmd.namespace}/{cmd.name} in cluster {cmd.cluster}")
    fact = WorkloadScaled(
        cluster=cmd.cluster,
        namespace=cmd.namespace,
        kind=cmd.kind,
        name=cmd.name,
        replicas=cmd.replicas,
        previous=previous,
        reason=cmd.reason,
    )
    subject = f"clusters/{cmd.cluster}/namespaces/{cmd.namespace}/workloads/{cmd.name}"

    def mutate(data: dict[str, Any]) -> None:
        data.update(
            tenant=cmd.tenant,
            cluster=cmd.cluster,
            namespace=cmd.namespace,
            kind=cmd.kind,
            name=cmd.name,
            replicas=cmd.replicas,
            previous=previous,
            reason=cmd.reason,
            at=deps.clock.now().isoformat(),
        )

    await update(
        col,
        k,
        mutate,
        caused_by=ctx.envelope.id,
        initial={},
        events_for=lambda b, a: state.envelopes([fact], **ctx.caused(subject=subject)),
    )
    app.wake_relay()


# --- config center ------------------------------------------------------------------------
async def _write_config(
    ctx: Context, tenant: str, spec: ConfigSpec, *, by: str, restart: bool, rollback_of: int | None
) -> None:
    col = app.store.collection(state.CONFIGS)
    k = cfgs.key(tenant, spec.environment, spec.name)
    try:
        wl = await deps.cluster_access().workloads(tenant, spec.cluster, spec.namespace)
        # pods scaled to zero read the new data when they start; only running ones restart
        running = [d for d in await wl.deployments(f"{mf.APP}={spec.app}") if d["spec"].get("replicas", 1) > 0]
        restart_names = [d["metadata"]["name"] for d in running] if restart else []
    except KUBE_ERRORS as exc:
        raise Transient(f"config {spec.name}: cluster {spec.cluster}: {exc}") from None
    facts: list[BaseModel] = []

    def mutate(data: dict[str, Any]) -> dict[str, Any]:
        current = cfgs.Config.model_validate(data) if data else None
        cfg, d = cfgs.change(current, spec, tenant=tenant, by=by, now=deps.clock.now(), rollback_of=rollback_of)
        facts[:] = [
            ConfigChanged(
                name=cfg.name,
                app=cfg.app,
                environment=cfg.environment,
                cluster=cfg.cluster,
                namespace=cfg.namespace,
                kind=cfg.kind,
                version=cfg.version,
                previous_version=current.version if current else None,
                rollback_of=rollback_of,
                restart=restart_names,
                by=by,
                **d,
            )
        ]
        return cfg.model_dump(mode="json")

    try:
        rec = await update(
            col,
            k,
            mutate,
            caused_by=ctx.envelope.id,
            initial={},
            events_for=lambda b, a: state.envelopes(facts, **ctx.caused(subject=f"configs/{spec.name}")),
        )
    except Invalid as exc:
        await _refuse(ctx, spec.name, exc)
        return
    app.wake_relay()
    cfg = cfgs.Config.model_validate(rec.data)
    try:  # after a redelivery this re-applies the stored version: idempotent
        await wl.apply(cfgs.manifest(cfg))
        for name in restart_names:
            await wl.restart(name, annotation=mf.CONFIG_VERSION, value=f"{cfg.name}-v{cfg.version}")
    except KUBE_ERRORS as exc:
        raise Transient(f"config {spec.name} v{cfg.version}: apply to {spec.cluster}: {exc}") from None


@app.handler(SetConfig)
async def set_config(cmd: SetConfig, ctx: Context) -> None:
    await _write_config(ctx, cmd.tenant, cmd.config, by=cmd.by, restart=cmd.restart, rollback_of=None)


@app.handler(RollbackConfig)
async def rollback_config(cmd: RollbackConfig, ctx: Context) -> None:
    rec = await app.store.collection(state.CONFIGS).get(cfgs.key(cmd.tenant, cmd.environment, cmd.name))
    cfg = state.load_config(rec)
    if cfg is None:
        await _refuse(ctx, cmd.name, Invalid([("name", f"no config {cmd.name!r} in environment {cmd.environment}")]))
        return
    if rec is not None and rec.has_applied(ctx.envelope.id):
        spec = cfgs.restore_spec(cfg, cfg.version)  # redelivery: re-apply what was written
    else:
        try:
            spec = cfgs.restore_spec(cfg, cmd.to_version)
        except Invalid as exc:
            await _refuse(ctx, cmd.name, exc)
            return
    await _write_config(ctx, cmd.tenant, spec, by=cmd.by, restart=cmd.restart, rollback_of=cmd.to_version)


# --- templates ----------------------------------------------------------------------------
@app.handler(PutTemplate)
async def put_template(cmd: PutTemplate, ctx: Context) -> None:
    try:
        tpl = parse_template(cmd.template, tenant=cmd.tenant)
    except Invalid as exc:
        await _refuse(ctx, cmd.template.name, exc)
        return
    facts: list[BaseModel] = []

    def mutate(data: dict[str, Any]) -> dict[str, Any]:
        saved = tpl.model_copy(update={"version": int(data.get("version", 0)) + 1})
        facts[:] = [TemplateSaved(name=saved.name, version=saved.version, kind=saved.kind, visibility=saved.visibility)]
        return saved.model_dump(mode="json")

    await update(
        app.store.collection(state.TEMPLATES),
        state.key(cmd.tenant, tpl.name),
        mutate,
        caused_by=ctx.envelope.id,
        initial={},
        events_for=lambda b, a: state.envelopes(facts, **ctx.caused(subject=f"templates/{tpl.name}")),
    )
    app.wake_relay()


@app.handler(DeleteTemplate)
async def delete_template(cmd: DeleteTemplate, ctx: Context) -> None:
    col = app.store.collection(state.TEMPLATES)
    rec = await col.get(state.key(cmd.tenant, cmd.name))
    if rec is None:
        return  # already gone (or a redelivery after the delete)
    tpl = state.load_template(rec)
    assert tpl is not None
    fact = TemplateSaved(name=tpl.name, version=tpl.version, kind=tpl.kind, visibility=tpl.visibility, deleted=True)
    events = state.envelopes([fact], **ctx.caused(subject=f"templates/{tpl.name}"))
    try:
        await col.delete(rec.key, expected_version=rec.version, events=events, caused_by=ctx.envelope.id)
    except NotFound:
        return
    app.wake_relay()
