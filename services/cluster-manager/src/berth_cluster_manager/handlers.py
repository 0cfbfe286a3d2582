"""The service layer: cluster-manager's commands, queries and background loops, declared on ``app``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from berth_common.bus import Context, Poison, Transient
from berth_common.events import Envelope
from berth_common.store import AlreadyExists, NotFound
from berth_common.store.unit_of_work import update
from berth_schema.cluster import (
    AddonFailed,
    AddonInstalled,
    CaRotationCompleted,
    CaRotationStarted,
    CertRenewed,
    ClusterFailed,
    ClusterRequested,
    ClusterUpgradeStarted,
    CompleteCaRotation,
    CreateCluster,
    CreateNamespace,
    DeleteCluster,
    DeleteNamespace,
    InstallAddon,
    NamespaceCreated,
    NamespaceDeleted,
    NamespaceSpec,
    QuotaChanged,
    RenewCertificates,
    RetryCluster,
    SetQuota,
    SetTenantLimits,
    StartCaRotation,
    UninstallAddon,
    UpgradeCluster,
)
from berth_schema.node import NodeAdded, NodeRemoved
from pydantic import BaseModel

from . import join_queries, kube, queries  # noqa: F401  (importing handlers declares every query too)
from .addons.helm import Helm, HelmFailed, chart_version
from .app import app
from .config import ClusterManagerSettings
from .deps import cluster_subject, load_cluster, tenant_api, tenant_limits, wiring
from .domain.addons import addon, values_for
from .domain.errors import DomainError, FieldError, ValidationFailed
from .domain.lifecycle import Cluster, Phase
from .domain.limits import (
    SYSTEM_NAMESPACES,
    TenantLimits,
    TenantUsage,
    check_cluster_allowed,
    check_namespace_allowed,
)
from .domain.namespaces import ISOLATION_POLICY, LIMITS_NAME, QUOTA_NAME, namespace_manifests, parse_namespace
from .domain.spec import resolve
from .operations import OperationRunner, now, ref_of
from .providers import Providers, StepFailed
from .state import CLUSTERS, NAMESPACES, TENANT_LIMITS, TENANT_NODES, cluster_key, envelope, namespace_key

log = logging.getLogger(__name__)

TENANT_API_TIMEOUT = 10.0


# --- lifecycle ------------------------------------------------------------------------------
@app.on_startup
async def _wire(_: Any) -> None:
    if wiring.settings is None:
        wiring.settings = ClusterManagerSettings()
    if wiring.providers is None:
        assert app.settings is not None
        wiring.providers = Providers.from_settings(wiring.settings, data_dir=app.settings.data_dir)
    wiring.runner = OperationRunner(app.store, wiring.providers, wake=app.wake_relay)


@app.on_shutdown
async def _release(_: Any) -> None:
    """Stop what providers run for clusters whose creation did not finish (a local cluster's
    processes would otherwise outlive the platform)."""
    if wiring.providers is not None:
        await wiring.providers.close()


# --- helpers ------------------------------------------------------------------------------
async def _refuse(
    ctx: Context, *, cluster: str, operation: str, reason: str, errors: Sequence[FieldError] = ()
) -> None:
    """Publish why a command was refused. The id derives from the command's, so a redelivery
    publishes the same event and JetStream drops the duplicate."""
    fact = ClusterFailed(
        cluster=cluster,
        operation=operation,
        step="validate",
        reason=reason,
        errors=[{"field": e.field, "message": e.message} for e in errors],
    )
    env = envelope(
        fact,
        tenant=ctx.envelope.tenant,
        subject=cluster_subject(cluster),
        cause=ctx.envelope,
        id=f"{ctx.envelope.id}-refused",
    )
    await app.bus.publish(env)


async def _drive(ctx: Context, tenant: str, name: str) -> Cluster | None:
    return await wiring.run().drive(tenant, name, cause=ctx.envelope, heartbeat=ctx.in_progress)


Mutate = Callable[[Cluster], None]


async def _transition(
    ctx: Context,
    name: str,
    mutate: Mutate,
    events: Callable[[Cluster], list[BaseModel]],
    *,
    extra: Sequence[Envelope] = (),
) -> bool:
    """Apply a domain transition and its facts in one write; False when refused (already published)."""
    tenant = ctx.envelope.tenant
    col = app.store.collection(CLUSTERS)
    facts: list[Envelope] = []

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        cluster = Cluster.from_doc(data)
        mutate(cluster)
        facts[:] = [
            envelope(f, tenant=tenant, subject=cluster_subject(name), cause=ctx.envelope) for f in events(cluster)
        ]
        facts.extend(extra)
        return cluster.to_doc()

    try:
        await update(col, cluster_key(tenant, name), apply, caused_by=ctx.envelope.id, events_for=lambda _b, _a: facts)
    except NotFound:
        raise Poison(f"cluster {name} not found in tenant {tenant}") from None
    except DomainError as exc:
        await _refuse(ctx, cluster=name, operation=ctx.envelope.type.split(".")[3], reason=str(exc))
        return False
    app.wake_relay()
    return True


# --- cluster commands -----------------------------------------------------------------------
@app.handler(CreateCluster, concurrency=8, max_deliver=5, ack_wait=60)
async def create_cluster(cmd: CreateCluster, ctx: Context) -> None:
    tenant, env = ctx.envelope.tenant, ctx.envelope
    try:
        spec = resolve(cmd.spec, offer=wiring.offer())
    except ValidationFailed as exc:
        await _refuse(ctx, cluster=cmd.spec.name, operation="create", reason=str(exc), errors=exc.errors)
        return
    col = app.store.collection(CLUSTERS)
    key = cluster_key(tenant, spec.name)
    existing = await col.get(key)
    if existing is not None:
        if not existing.has_applied(env.id):
            await _refuse(
                ctx, cluster=spec.name, operation="create", reason=f"name: cluster {spec.name} already exists"
            )
            return
    else:
        try:
            check_cluster_allowed(await tenant_limits(tenant), _usage(await col.count(where={"tenant": tenant})))
        except DomainError as exc:
            await _refuse(ctx, cluster=spec.name, operation="create", reason=str(exc))
            return
        cluster = Cluster.request(tenant=tenant, spec=spec, at=now())
        fact = ClusterRequested(
            cluster=spec.name,
            cluster_id=cluster.id,
            provider=spec.provider,
            version=spec.version,
            spec=spec.model_dump(mode="json"),
        )
        try:
            await col.create(
                key,
                cluster.to_doc(),
                caused_by=env.id,
                events=[envelope(fact, tenant=tenant, subject=cluster_subject(spec.name), cause=env)],
            )
        except AlreadyExists:
            await _refuse(
                ctx, cluster=spec.name, operation="create", reason=f"name: cluster {spec.name} already exists"
            )
            return
        app.wake_relay()
    await _drive(ctx, tenant, spec.name)


def _usage(clusters: int) -> TenantUsage:
    return TenantUsage(clusters=clusters)


@app.handler(UpgradeCluster, concurrency=4, max_deliver=5, ack_wait=60)
async def upgrade_cluster(cmd: UpgradeCluster, ctx: Context) -> None:
    before: dict[str, str] = {}

    def mutate(c: Cluster) -> None:
        before["version"] = c.version or ""
        c.start_upgrade(cmd.version, at=now())

    def facts(c: Cluster) -> list[BaseModel]:
        return [
            ClusterUpgradeStarted(
                cluster=c.name, cluster_id=c.id, from_version=before["version"], to_version=cmd.version
            )
        ]

    if await _transition(ctx, cmd.cluster, mutate, facts):
        await _drive(ctx, ctx.envelope.tenant, cmd.cluster)


@app.handler(DeleteCluster, concurrency=4, max_deliver=5, ack_wait=60)
async def delete_cluster(cmd: DeleteCluster, ctx: Context) -> None:
    if await _transition(ctx, cmd.cluster, lambda c: c.start_delete(at=now()), lambda c: []):
        await _drive(ctx, ctx.envelope.tenant, cmd.cluster)


@app.handler(RetryCluster, concurrency=4, max_deliver=5, ack_wait=60)
async def retry_cluster(cmd: RetryCluster, ctx: Context) -> None:
    def mutate(c: Cluster) -> None:
        c.retry(at=now())

    if await _transition(ctx, cmd.cluster, mutate, lambda c: []):
        await _drive(ctx, ctx.envelope.tenant, cmd.cluster)


# --- certificates -------------------------------------------------------------------------
async def _pki_change(
    ctx: Context,
    name: str,
    *,
    check: Mutate,
    effect: Callable[[Cluster], Awaitable[list[str]]],
    mutate: Callable[[Cluster, list[str]], None],
    facts: Callable[[Cluster, list[str]], list[BaseModel]],
) -> None:
    tenant = ctx.envelope.tenant
    try:
        rec, cluster = await load_cluster(tenant, name)
    except NotFound:
        raise Poison(f"cluster {name} not found in tenant {tenant}") from None
    if rec.has_applied(ctx.envelope.id):
        return
    try:
        check(cluster.model_copy(deep=True))
    except DomainError as exc:
        await _refuse(ctx, cluster=name, operation=ctx.envelope.type.split(".")[3], reason=str(exc))
        return
    try:
        changed = await effect(cluster)
    except (StepFailed, OSError, ValueError) as exc:
        raise Transient(f"cluster {name}: {exc}") from exc
    # node-manager reaches the cluster with the admin credentials: send the new ones
    extra = await wiring.run().registration(cluster, cause=ctx.envelope) if {"admin", "ca"} & set(changed) else []
    await _transition(ctx, name, lambda c: mutate(c, changed), lambda c: facts(c, changed), extra=extra)


@app.handler(StartCaRotation, concurrency=2, max_deliver=5, ack_wait=120)
async def rotate_ca_start(cmd: StartCaRotation, ctx: Context) -> None:
    await _pki_change(
        ctx,
        cmd.cluster,
        check=lambda c: c.start_ca_rotation(at=now()),
        effect=lambda c: wiring.provider_for(c).rotate_ca(ref_of(c), phase="start"),
        mutate=lambda c, _: c.start_ca_rotation(at=now()),
        facts=lambda c, changed: [CaRotationStarted(cluster=c.name, cluster_id=c.id, certificates=changed)],
    )


@app.handler(CompleteCaRotation, concurrency=2, max_deliver=5, ack_wait=120)
async def rotate_ca_complete(cmd: CompleteCaRotation, ctx: Context) -> None:
    await _pki_change(
        ctx,
        cmd.cluster,
        check=lambda c: c.complete_ca_rotation(at=now()),
        effect=lambda c: wiring.provider_for(c).rotate_ca(ref_of(c), phase="complete"),
        mutate=lambda c, _: c.complete_ca_rotation(at=now()),
        facts=lambda c, _: [CaRotationCompleted(cluster=c.name, cluster_id=c.id)],
    )


def _require_running(c: Cluster) -> None:
    if c.phase != Phase.RUNNING:
        raise DomainError(f"cluster {c.name} is {c.phase}; certificates renew on Running clusters")


def _note_renewed(c: Cluster, changed: list[str]) -> None:
    if changed:
        c.note(at=now(), step="cert-renewed", result="succeeded", message=", ".join(changed))


@app.handler(RenewCertificates, concurrency=2, max_deliver=5, ack_wait=120)
async def renew_certificates(cmd: RenewCertificates, ctx: Context) -> None:
    await _pki_change(
        ctx,
        cmd.cluster,
        check=_require_running,
        effect=lambda c: wiring.provider_for(c).renew_certificates(ref_of(c)),
        mutate=_note_renewed,
        facts=lambda c, changed: (
            [CertRenewed(cluster=c.name, cluster_id=c.id, certificates=changed)] if changed else []
        ),
    )


@app.background
async def certificate_renewal(_: Any) -> None:
    """Renew leaf certificates of Running clusters before they expire."""
    while True:
        await asyncio.sleep(wiring.config().cert_check_interval)
        col = app.store.collection(CLUSTERS)
        after: str | None = None
        while True:
            page = await col.list(where={"phase": Phase.RUNNING.value}, after=after, limit=100)
            for rec in page:
                cluster = Cluster.from_doc(rec.data)
                try:
                    changed = await wiring.provider_for(cluster).renew_certificates(ref_of(cluster))
                except Exception:
                    log.exception("certificate renewal of %s failed", rec.key)
                    continue
                if changed:
                    fact = CertRenewed(cluster=cluster.name, cluster_id=cluster.id, certificates=changed)
                    facts = [envelope(fact, tenant=cluster.tenant, subject=cluster_subject(cluster.name))]
                    if "admin" in changed:
                        facts += await wiring.run().registration(cluster, cause=None)

                    def mutate(data: dict[str, Any], changed: list[str] = changed) -> dict[str, Any]:
                        c = Cluster.from_doc(data)
                        _note_renewed(c, changed)
                        return c.to_doc()

                    await update(col, rec.key, mutate, caused_by=None, events_for=lambda _b, _a, facts=facts: facts)  # type: ignore[misc]
                    app.wake_relay()
            if len(page) < 100:
                break
            after = page[-1].key


# --- tenant limits --------------------------------------------------------------------------
@app.handler(SetTenantLimits, concurrency=2)
async def set_limits(cmd: SetTenantLimits, ctx: Context) -> None:
    tenant = ctx.envelope.tenant
    changes = cmd.model_dump(exclude_none=True)
    new: dict[str, Any] = {}

    def mutate(data: dict[str, Any]) -> None:
        limits = TenantLimits.model_validate({**data.get("limits", {}), **changes})
        data["tenant"] = tenant
        data["limits"] = limits.model_dump()
        new.update(data["limits"])

    def facts(_b: Any, _a: Any) -> list[Envelope]:
        return [
            envelope(
                QuotaChanged(scope="tenant", quota=dict(new)),
                tenant=tenant,
                subject=f"tenants/{tenant}",
                cause=ctx.envelope,
            )
        ]

    await update(
        app.store.collection(TENANT_LIMITS), tenant, mutate, caused_by=ctx.envelope.id, events_for=facts, initial={}
    )
    app.wake_relay()


# --- namespaces -------------------------------------------------------------------------------
async def _running_cluster(tenant: str, name: str) -> Cluster:
    try:
        _, cluster = await load_cluster(tenant, name)
    except NotFound:
        raise Poison(f"cluster {name} not found in tenant {tenant}") from None
    if cluster.phase not in (Phase.RUNNING, Phase.UPGRADING):
        raise Transient(f"cluster {name} is {cluster.phase}; namespaces need a Running cluster")
    return cluster


async def _apply_namespace(cluster: Cluster, spec: NamespaceSpec, *, previous: NamespaceSpec | None) -> None:
    api = await tenant_api(cluster)
    try:
        async with asyncio.timeout(TENANT_API_TIMEOUT * 3):
            await kube.apply_all(api, namespace_manifests(spec, cluster=cluster.name))
            if previous is not None:
                if previous.isolated and not spec.isolated:
                    await kube.delete(api, "NetworkPolicy", ISOLATION_POLICY, spec.name)
                if previous.quota and not spec.quota:
                    await kube.delete(api, "ResourceQuota", QUOTA_NAME, spec.name)
                if previous.limits is not None and spec.limits is None:
                    await kube.delete(api, "LimitRange", LIMITS_NAME, spec.name)
    except (TimeoutError, OSError) as exc:
        raise Transient(f"tenant cluster {cluster.name} did not answer: {exc}") from exc
    finally:
        await api.close()


@app.handler(CreateNamespace, concurrency=4, max_deliver=5)
async def create_namespace(cmd: CreateNamespace, ctx: Context) -> None:
    tenant, spec = ctx.envelope.tenant, cmd.namespace
    cluster = await _running_cluster(tenant, cmd.cluster)
    col = app.store.collection(NAMESPACES)
    key = namespace_key(tenant, cmd.cluster, spec.name)
    existing = await col.get(key)
    if existing is not None:
        if existing.has_applied(ctx.envelope.id):
            return
        raise Poison(f"name: namespace {spec.name} already exists in cluster {cmd.cluster}")
    count = len(SYSTEM_NAMESPACES) + await col.count(where={"tenant": tenant, "cluster": cmd.cluster})
    try:
        check_namespace_allowed(await tenant_limits(tenant), existing=count)
    except DomainError as exc:
        raise Poison(str(exc)) from None
    await _apply_namespace(cluster, spec, previous=None)
    fact = NamespaceCreated(
        cluster=cluster.name,
        cluster_id=cluster.id,
        namespace=spec.name,
        isolated=spec.isolated,
        node_selector=spec.node_selector,
    )
    doc = {
        "tenant": tenant,
        "cluster": cmd.cluster,
        "name": spec.name,
        "spec": spec.model_dump(mode="json"),
        "created_at": now().isoformat(),
    }
    await col.create(
        key,
        doc,
        caused_by=ctx.envelope.id,
        events=[envelope(fact, tenant=tenant, subject=cluster_subject(cmd.cluster), cause=ctx.envelope)],
    )
    app.wake_relay()


@app.handler(DeleteNamespace, concurrency=4, max_deliver=5)
async def delete_namespace(cmd: DeleteNamespace, ctx: Context) -> None:
    tenant = ctx.envelope.tenant
    col = app.store.collection(NAMESPACES)
    rec = await col.get(namespace_key(tenant, cmd.cluster, cmd.namespace))
    if rec is None:
        raise Poison(f"namespace {cmd.namespace} is not managed in cluster {cmd.cluster} (system namespaces stay)")
    cluster = await _running_cluster(tenant, cmd.cluster)
    api = await tenant_api(cluster)
    try:
        await kube.delete(api, "Namespace", cmd.namespace)
    finally:
        await api.close()
    fact = NamespaceDeleted(cluster=cluster.name, cluster_id=cluster.id, namespace=cmd.namespace)
    await col.delete(
        rec.key,
        expected_version=rec.version,
        caused_by=ctx.envelope.id,
        events=[envelope(fact, tenant=tenant, subject=cluster_subject(cmd.cluster), cause=ctx.envelope)],
    )
    app.wake_relay()


@app.handler(SetQuota, concurrency=4, max_deliver=5)
async def set_quota(cmd: SetQuota, ctx: Context) -> None:
    tenant = ctx.envelope.tenant
    col = app.store.collection(NAMESPACES)
    rec = await col.get(namespace_key(tenant, cmd.cluster, cmd.namespace))
    if rec is None:
        raise Poison(f"namespace {cmd.namespace} is not managed in cluster {cmd.cluster}")
    if rec.has_applied(ctx.envelope.id):
        return
    previous = NamespaceSpec.model_validate(rec.data["spec"])
    changes: dict[str, Any] = {"quota": cmd.quota}
    if cmd.limits is not None:
        changes["limits"] = cmd.limits or None
    if cmd.isolated is not None:
        changes["isolated"] = cmd.isolated
    if cmd.node_selector is not None:
        changes["node_selector"] = cmd.node_selector
    try:
        spec = parse_namespace({**previous.model_dump(mode="json"), **changes})
    except ValidationFailed as exc:
        raise Poison(f"quota refused: {exc}") from None
    cluster = await _running_cluster(tenant, cmd.cluster)
    await _apply_namespace(cluster, spec, previous=previous)
    fact = QuotaChanged(
        scope="namespace",
        cluster=cmd.cluster,
        namespace=cmd.namespace,
        quota={
            "hard": spec.quota,
            "limits": spec.limits.model_dump() if spec.limits else None,
            "isolated": spec.isolated,
            "node_selector": spec.node_selector,
        },
    )
    await col.replace(
        rec.key,
        {**rec.data, "spec": spec.model_dump(mode="json")},
        expected_version=rec.version,
        caused_by=ctx.envelope.id,
        events=[envelope(fact, tenant=tenant, subject=cluster_subject(cmd.cluster), cause=ctx.envelope)],
    )
    app.wake_relay()


# --- addons ---------------------------------------------------------------------------------
def _helm() -> Helm:
    assert app.settings is not None
    return Helm(work_dir=app.settings.data_dir / "helm")


async def _addon_change(ctx: Context, name: str, addon_name: str, *, install: bool, values: dict[str, Any]) -> None:
    tenant = ctx.envelope.tenant
    try:
        rec, cluster = await load_cluster(tenant, name)
    except NotFound:
        raise Poison(f"cluster {name} not found in tenant {tenant}") from None
    if rec.has_applied(ctx.envelope.id):
        return
    try:
        a = addon(addon_name)
        cluster.require_running(f"addon {addon_name}")
    except DomainError as exc:
        await _refuse(ctx, cluster=name, operation="addon", reason=str(exc))
        return
    ref = ref_of(cluster)
    version = chart_version(a.chart)
    try:
        kubeconfig = await wiring.provider_for(cluster).admin_kubeconfig(ref)
        if install:
            await _helm().install(
                kubeconfig,
                release=a.name,
                chart=a.chart,
                namespace=a.namespace,
                values=values_for(a, cluster.spec, cluster=name, overrides=values),
            )
        else:
            await _helm().uninstall(kubeconfig, release=a.name, namespace=a.namespace)
        status = "installed" if install else "uninstalled"
        fact_model: BaseModel = AddonInstalled(
            cluster=name, cluster_id=cluster.id, addon=a.name, version=version if install else ""
        )
        message = ""
    except (HelmFailed, StepFailed, OSError) as exc:
        status, message = "failed", str(exc)
        fact_model = AddonFailed(cluster=name, cluster_id=cluster.id, addon=a.name, reason=message)

    def mutate(c: Cluster) -> None:
        c.set_addon(a.name, status=status, at=now(), version=version if install else "", message=message)

    await _transition(ctx, name, mutate, lambda c: [fact_model])


@app.handler(InstallAddon, concurrency=2, max_deliver=3, ack_wait=180)
async def install_addon(cmd: InstallAddon, ctx: Context) -> None:
    await _addon_change(ctx, cmd.cluster, cmd.addon, install=True, values=cmd.values)


@app.handler(UninstallAddon, concurrency=2, max_deliver=3, ack_wait=180)
async def uninstall_addon(cmd: UninstallAddon, ctx: Context) -> None:
    await _addon_change(ctx, cmd.cluster, cmd.addon, install=False, values={})


# --- node usage (facts from node-manager) ------------------------------------------------------
@app.handler(NodeAdded, concurrency=4)
async def count_node_added(fact: NodeAdded, ctx: Context) -> None:
    key = f"{fact.tenant}/{fact.cluster}/{fact.node}"
    with contextlib.suppress(AlreadyExists):
        await app.store.collection(TENANT_NODES).create(
            key,
            {"tenant": fact.tenant, "cluster": fact.cluster, "pool": fact.pool, "node": fact.node},
            caused_by=ctx.envelope.id,
        )


@app.handler(NodeRemoved, concurrency=4)
async def count_node_removed(fact: NodeRemoved, ctx: Context) -> None:
    with contextlib.suppress(NotFound):
        await app.store.collection(TENANT_NODES).delete(f"{fact.tenant}/{fact.cluster}/{fact.node}")
