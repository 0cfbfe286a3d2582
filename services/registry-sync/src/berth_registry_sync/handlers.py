"""The service layer: commands and queries of registry-sync, declared on ``app``."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from berth_common.bus import Context, Poison, QueryError
from berth_common.events import registry
from berth_common.runtime import ServiceApp
from berth_common.store.unit_of_work import update
from berth_schema.registry import (
    DeletePolicy,
    DeleteRegistry,
    DrSwitch,
    DrSwitched,
    ImagePushed,
    IngestWebhook,
    PutDrPair,
    PutPolicy,
    PutRegistry,
    RetryExecution,
    RunPolicy,
)
from berth_schema.registry.dr import DrState
from berth_schema.registry.policies import PolicySpec, Triggers
from berth_schema.registry.queries import (
    DrStatus,
    ExecutionDetail,
    ExecutionList,
    GetDrStatus,
    GetExecution,
    ListExecutions,
    ListPolicies,
    ListRegistries,
    PolicyInfo,
    PolicyList,
    RegistryInfo,
    RegistryList,
)
from berth_schema.registry.registries import REDACTED, RegistrySpec

from .app import app
from .deps import now, wiring
from .domain.executions import Execution, Task
from .domain.webhooks import BadPayload, Pushed, parse_notification
from .runner import SOURCE, Runner
from .state import (
    DR_PAIRS,
    EXECUTIONS,
    POLICIES,
    PUSHES,
    REGISTRIES,
    SEALER,
    SECRETS,
    NotDefined,
    key,
    load_dr,
    load_execution,
    load_policy,
    load_registry,
    sealed_secret,
)

log = logging.getLogger(__name__)


def _execution_id(prefix: str, seed: str) -> str:
    """Deterministic from the command id, so a redelivered command finds its execution again."""
    return f"{prefix}-{hashlib.sha256(seed.encode()).hexdigest()[:20]}"


@app.on_startup
async def _open_secrets(svc: ServiceApp) -> None:
    assert svc.settings is not None
    SEALER.open(svc.settings.data_dir)


# --- registries and policies -------------------------------------------------------------
@app.handler(PutRegistry, concurrency=4)
async def put_registry(cmd: PutRegistry, ctx: Context) -> None:
    spec = cmd.registry
    k = key(spec.tenant, spec.name)
    public = spec.public()
    if spec.password is not None:
        secret = sealed_secret(spec)
        await update(app.store.collection(SECRETS), k, lambda _d: secret, caused_by=ctx.envelope.id, initial=secret)
    elif await app.store.collection(SECRETS).get(k) is not None:
        public["password"] = "********"  # kept from before
    await update(app.store.collection(REGISTRIES), k, lambda _d: public, caused_by=ctx.envelope.id, initial=public)
    log.info("registry saved", extra={"tenant": spec.tenant, "registry": spec.name, "url": spec.url})


@app.handler(DeleteRegistry, concurrency=2)
async def delete_registry(cmd: DeleteRegistry, ctx: Context) -> None:
    used = [
        r.data["spec"]["name"]
        for r in await app.store.collection(POLICIES).list(where={"tenant": cmd.tenant})
        if cmd.name in (r.data["spec"]["source"], r.data["spec"]["destination"])
    ]
    if used:
        raise Poison(f"registry {cmd.tenant}/{cmd.name} is used by policies {', '.join(sorted(used))}")
    for col in (REGISTRIES, SECRETS):
        rec = await app.store.collection(col).get(key(cmd.tenant, cmd.name))
        if rec is not None:
            await app.store.collection(col).delete(rec.key, expected_version=rec.version)


@app.handler(PutPolicy, concurrency=4)
async def put_policy(cmd: PutPolicy, ctx: Context) -> None:
    await _save_policy(cmd.policy, caused_by=ctx.envelope.id)


async def _save_policy(spec: PolicySpec, *, caused_by: str | None) -> None:
    for reg in (spec.source, spec.destination):
        try:
            await load_registry(app.store, spec.tenant, reg)
        except NotDefined as e:
            raise Poison(f"policy {spec.name}: {e}") from e
    spec_doc = spec.model_dump(mode="json")

    def mutate(d: dict[str, Any]) -> None:
        d["tenant"], d["spec"] = spec.tenant, spec_doc
        d.setdefault("schedule", {})

    await update(
        app.store.collection(POLICIES),
        key(spec.tenant, spec.name),
        mutate,
        caused_by=caused_by,
        initial={"tenant": spec.tenant},
    )


@app.handler(DeletePolicy, concurrency=2)
async def delete_policy(cmd: DeletePolicy, ctx: Context) -> None:
    rec = await app.store.collection(POLICIES).get(key(cmd.tenant, cmd.name))
    if rec is not None:
        await app.store.collection(POLICIES).delete(rec.key, expected_version=rec.version)


# --- executions --------------------------------------------------------------------------------
@app.handler(RunPolicy, concurrency=4, ack_wait=60.0, max_deliver=5)
async def run_policy(cmd: RunPolicy, ctx: Context) -> None:
    ex_id = cmd.execution_id or _execution_id("ex", ctx.envelope.id)
    await execute(
        cmd.tenant, cmd.policy, execution_id=ex_id, trigger=cmd.trigger, dry_run=cmd.dry_run, only=cmd.only, ctx=ctx
    )


@app.handler(RetryExecution, concurrency=4, ack_wait=60.0, max_deliver=5)
async def retry_execution(cmd: RetryExecution, ctx: Context) -> None:
    try:
        old = await load_execution(app.store, cmd.tenant, cmd.execution)
    except NotDefined as e:
        raise Poison(str(e)) from e
    if old.status == "running":
        raise Poison(f"execution {old.id} is still running")
    ex_id = cmd.execution_id or _execution_id("retry", ctx.envelope.id)
    await execute(
        cmd.tenant,
        old.policy,
        execution_id=ex_id,
        trigger="retry",
        dry_run=old.dry_run,
        tasks=old.failures(),
        retry_of=old.id,
        ctx=ctx,
    )


async def execute(
    tenant: str,
    policy_name: str,
    *,
    execution_id: str,
    trigger: str,
    dry_run: bool | None,
    ctx: Context,
    only: Sequence[tuple[str, str]] | None = None,
    tasks: Sequence[Task] | None = None,
    retry_of: str | None = None,
) -> Execution:
    existing = await app.store.collection(EXECUTIONS).get(execution_id)
    if existing is not None and existing.data.get("status") != "running":
        return Execution.model_validate(existing.data)  # a redelivery of a finished run
    try:
        policy, _ = await load_policy(app.store, tenant, policy_name)
        source = await load_registry(app.store, tenant, policy.source)
        destination = await load_registry(app.store, tenant, policy.destination)
    except NotDefined as e:
        raise Poison(str(e)) from e
    resume = existing is not None
    if existing is not None:  # redelivered after a crash: its pending tasks run, finished ones stay
        ex = Execution.model_validate(existing.data)
        tasks, only = None, None
    else:
        ex = Execution(
            id=execution_id,
            tenant=tenant,
            policy=policy.name,
            trigger=trigger,
            dry_run=policy.dry_run if dry_run is None else dry_run,
            started_at=now(),
            retry_of=retry_of,
        )
    runner = Runner(
        app.store,
        policy=policy,
        source=source,
        destination=destination,
        execution=ex,
        attrs=ctx.caused(),
        heartbeat=ctx.in_progress,
        on_tasks=_dr_synced,
        wake=app.wake_relay,
        clients=wiring.clients,
    )
    result = await runner.run(only=only, tasks=tasks, resume=resume)
    await update(
        app.store.collection(POLICIES),
        key(tenant, policy.name),
        lambda d: d.setdefault("schedule", {}).update(
            last_run_at=now().isoformat(), last_execution=result.id, last_status=result.status
        ),
        caused_by=None,
    )
    return result


async def _dr_synced(ex: Execution, done: Sequence[Task]) -> None:
    """Tasks of a DR pair's policy move the pair's per-repository sync marks."""
    pairs = await app.store.collection(DR_PAIRS).list(where={"tenant": ex.tenant})
    for rec in pairs:
        if rec.data["spec"].get("name") and f"dr-{rec.data['spec']['name']}"[:63] == ex.policy:
            at = now()

            def mutate(d: dict[str, Any], at: datetime = at) -> dict[str, Any]:
                st = DrState.model_validate(d)
                for t in done:
                    if t.action == "copy" and t.status in ("copied", "skipped"):
                        st.synced(t.repository, t.tag, t.digest, at)
                return st.model_dump(mode="json") | {"tenant": ex.tenant}

            await update(app.store.collection(DR_PAIRS), rec.key, mutate, caused_by=None)


# --- webhooks ----------------------------------------------------------------------------------
@app.handler(IngestWebhook, concurrency=8)
async def ingest_webhook(cmd: IngestWebhook, ctx: Context) -> None:
    try:
        pushes = parse_notification(cmd.payload)
    except BadPayload as e:
        raise Poison(f"webhook payload rejected: {e}") from e
    if not pushes:
        return
    regs = [
        RegistrySpec.restore(r.data, None)
        for r in await app.store.collection(REGISTRIES).list(where={"tenant": cmd.tenant}, limit=1000)
    ]
    by_name = {r.name: r for r in regs}
    if cmd.registry is not None and cmd.registry not in by_name:
        raise Poison(f"webhook names registry {cmd.tenant}/{cmd.registry}, which is not defined")
    matched: dict[str, list[Pushed]] = {}
    for p in pushes:
        reg = by_name.get(cmd.registry) if cmd.registry else next((r for r in regs if r.host == p.host), None)
        if reg is None:
            log.info("webhook event from an unknown registry ignored", extra={"host": p.host})
            continue
        matched.setdefault(reg.name, []).append(p)
    attrs = ctx.caused()
    facts = [
        registry.envelope(
            ImagePushed(
                tenant=cmd.tenant, registry=name, repository=p.repository, tag=p.tag, digest=p.digest, action=p.action
            ),
            source=SOURCE,
            subject=f"registries/{name}/{p.repository}:{p.tag}",
            **attrs,
        )
        for name, ps in matched.items()
        for p in ps
    ]
    record = {
        "tenant": cmd.tenant,
        "received_at": cmd.received_at.isoformat(),
        "pushes": [
            {"registry": n, "repository": p.repository, "tag": p.tag, "digest": p.digest}
            for n, ps in matched.items()
            for p in ps
        ],
    }
    pushes_col = app.store.collection(PUSHES)
    if await pushes_col.get(ctx.envelope.id) is None:
        await pushes_col.create(ctx.envelope.id, record, events=facts, caused_by=ctx.envelope.id)
        app.wake_relay()
    for name, ps in matched.items():
        await _dr_pushed(cmd.tenant, name, [p for p in ps if p.action == "push"])
    policies = await app.store.collection(POLICIES).list(where={"tenant": cmd.tenant}, limit=1000)
    for rec in policies:
        spec = PolicySpec.model_validate(rec.data["spec"])
        ps = matched.get(spec.source, [])
        only = sorted({(p.repository, p.tag) for p in ps if p.action == "push"})
        if not (spec.enabled and spec.triggers.on_push and only):
            continue
        run = RunPolicy(
            tenant=cmd.tenant,
            policy=spec.name,
            trigger="webhook",
            only=only,
            execution_id=_execution_id("hook", f"{ctx.envelope.id}/{spec.name}"),
        )
        await app.bus.emit(run, tenant=cmd.tenant, subject=f"policies/{spec.name}", **_no_tenant(attrs))


def _no_tenant(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k != "tenant"}


async def _dr_pushed(tenant: str, registry_name: str, pushes: Sequence[Pushed]) -> None:
    if not pushes:
        return
    for rec in await app.store.collection(DR_PAIRS).list(where={"tenant": tenant}):
        if rec.data["spec"]["primary"] != registry_name:
            continue
        at = now()

        def mutate(d: dict[str, Any], at: datetime = at) -> dict[str, Any]:
            st = DrState.model_validate(d)
            for p in pushes:
                st.pushed(p.repository, p.tag, p.digest, at)
            return st.model_dump(mode="json") | {"tenant": tenant}

        await update(app.store.collection(DR_PAIRS), rec.key, mutate, caused_by=None)


# --- registry DR ----------------------------------------------------------------------------------
@app.handler(PutDrPair, concurrency=2)
async def put_dr_pair(cmd: PutDrPair, ctx: Context) -> None:
    spec = cmd.pair
    policy = PolicySpec(
        tenant=spec.tenant,
        name=spec.policy_name,
        source=spec.primary,
        destination=spec.standby,
        triggers=Triggers(on_push=True, reconcile_seconds=spec.reconcile_seconds),
        override=True,
    )
    await _save_policy(policy, caused_by=ctx.envelope.id)
    initial = DrState(spec=spec).model_dump(mode="json") | {"tenant": spec.tenant}
    spec_doc = spec.model_dump(mode="json")
    await update(
        app.store.collection(DR_PAIRS),
        key(spec.tenant, spec.name),
        lambda d: d.update(spec=spec_doc),
        caused_by=ctx.envelope.id,
        initial=initial,
    )


@app.handler(DrSwitch, concurrency=2)
async def dr_switch(cmd: DrSwitch, ctx: Context) -> None:
    try:
        state = await load_dr(app.store, cmd.tenant, cmd.pair)
        target = await load_registry(
            app.store, cmd.tenant, state.spec.standby if cmd.to == "standby" else state.spec.primary
        )
    except NotDefined as e:
        raise Poison(str(e)) from e
    at = now()
    attrs = ctx.caused()

    def mutate(d: dict[str, Any]) -> dict[str, Any]:
        st = DrState.model_validate(d)
        st.switch(cmd.to, at=at, reason=cmd.reason or "manual")
        return st.model_dump(mode="json") | {"tenant": cmd.tenant}

    def events(before: Any, after: Any) -> list[Any]:
        if before is not None and before.get("active") == after.get("active"):
            return []
        st = DrState.model_validate(after)
        fact = DrSwitched(
            tenant=cmd.tenant,
            pair=cmd.pair,
            active=st.active,
            pull_registry=st.pull_registry,
            pull_endpoint=target.url,
            reason=st.switch_reason or "",
            lag_seconds=st.lag(at),
        )
        return [registry.envelope(fact, source=SOURCE, subject=f"registry-dr/{cmd.pair}", **attrs)]

    await update(
        app.store.collection(DR_PAIRS), key(cmd.tenant, cmd.pair), mutate, caused_by=ctx.envelope.id, events_for=events
    )
    app.wake_relay()


# --- queries -----------------------------------------------------------------------------------------
@app.query(ListRegistries)
async def list_registries(req: ListRegistries) -> RegistryList:
    recs = await app.store.collection(REGISTRIES).list(where={"tenant": req.tenant}, limit=1000)
    # the stored documents hold no password; redact again in case an older write did
    return RegistryList(
        items=[
            RegistryInfo.model_validate({**r.data, "password": REDACTED if r.data.get("password") else None})
            for r in recs
        ]
    )


@app.query(ListPolicies)
async def list_policies(req: ListPolicies) -> PolicyList:
    recs = await app.store.collection(POLICIES).list(where={"tenant": req.tenant}, limit=1000)
    return PolicyList(
        items=[PolicyInfo.model_validate({**r.data["spec"], "schedule": r.data.get("schedule", {})}) for r in recs]
    )


@app.query(GetExecution)
async def get_execution(req: GetExecution) -> ExecutionDetail:
    try:
        ex = await load_execution(app.store, req.tenant, req.id)
    except NotDefined as e:
        raise QueryError(404, str(e)) from e
    return ex.detail()


@app.query(ListExecutions)
async def list_executions(req: ListExecutions) -> ExecutionList:
    where: dict[str, Any] = {"tenant": req.tenant}
    if req.policy:
        where["policy"] = req.policy
    recs = await app.store.collection(EXECUTIONS).list(where=where, limit=1000)
    items = sorted((Execution.model_validate(r.data) for r in recs), key=lambda e: e.started_at, reverse=True)
    return ExecutionList(items=[e.summary() for e in items[: req.limit]])


@app.query(GetDrStatus)
async def dr_status(req: GetDrStatus) -> DrStatus:
    try:
        st = await load_dr(app.store, req.tenant, req.pair)
        pull = await load_registry(app.store, req.tenant, st.pull_registry)
    except NotDefined as e:
        raise QueryError(404, str(e)) from e
    lag = st.lag(now())
    return DrStatus(
        pair=st.spec.name,
        primary=st.spec.primary,
        standby=st.spec.standby,
        active=st.active,
        pull_registry=st.pull_registry,
        pull_endpoint=pull.url,
        switched_at=st.switched_at,
        switch_reason=st.switch_reason,
        lag_seconds=lag,
        max_lag_seconds=max(lag.values(), default=0.0),
    )
