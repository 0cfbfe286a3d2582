"""cluster-manager's read side: the typed queries of ``berth_schema.cluster.queries`` about
clusters, namespaces, addons, the creation form and the tenant's limits (join tokens are in
``join_queries``)."""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from berth_common.bus import QueryError
from berth_common.store import NotFound
from berth_schema.cluster import (
    AddonList,
    AddonRow,
    AddonState,
    AdminKubeconfigReleased,
    AllocationUnavailable,
    CheckNodeQuota,
    ClusterAllocation,
    ClusterBasic,
    ClusterDetail,
    ClusterFailure,
    ClusterList,
    ClusterNetwork,
    ClusterOptions,
    ClusterOther,
    ClusterQuery,
    ClusterSummary,
    ClusterValidation,
    ControlPlaneHealth,
    ControlPlaneUnreachable,
    FieldProblem,
    FlavourOption,
    GetAddon,
    GetCluster,
    GetClusterOptions,
    GetKubeconfig,
    GetTenantLimits,
    Kubeconfig,
    ListAddons,
    ListClusters,
    ListNamespaces,
    NamespaceList,
    NamespaceRow,
    NamespaceSpec,
    NamespaceValidation,
    NodeQuota,
    TenantCounts,
    TenantLimitsReport,
    TenantLimitValues,
    TimelineRow,
    ValidateCluster,
    ValidateNamespace,
)
from berth_schema.cluster.network import parse_cidr, pod_capacity, subnet_available_ips
from berth_schema.cluster.spec import BILLING_MODES, KUBE_PROXY_MODES, NETWORK_MODELS

from . import kube
from .addons.helm import chart_version
from .app import app
from .deps import load_cluster, log_fact, tenant_api, tenant_limits, wiring
from .domain.addons import CATALOGUE, Addon
from .domain.capacity import allocation
from .domain.errors import FieldError, LimitExceeded, ValidationFailed
from .domain.lifecycle import Cluster, Phase
from .domain.limits import SYSTEM_NAMESPACES, TenantUsage, check_nodes_allowed, namespaces_remaining, remaining
from .domain.namespaces import NODE_SELECTOR_ANNOTATION, parse_namespace
from .domain.spec import FLAVOURS, parse_spec
from .domain.versions import next_versions
from .operations import ref_of
from .state import CLUSTERS, NAMESPACES, TENANT_NODES

HIDDEN_NAMESPACES = ("kube-node-lease",)
TENANT_API_TIMEOUT = 10.0


async def cluster_or_404(req: ClusterQuery) -> Cluster:
    try:
        return (await load_cluster(req.tenant, req.cluster))[1]
    except NotFound:
        raise QueryError(404, f"cluster {req.cluster} not found in tenant {req.tenant}") from None


def _problems(errors: list[FieldError]) -> list[FieldProblem]:
    return [FieldProblem(field=e.field, message=e.message) for e in errors]


# --- clusters ---------------------------------------------------------------------------
def _summary_fields(c: Cluster) -> dict[str, Any]:
    failure = c.failure
    return {
        "id": c.id,
        "name": c.name,
        "tenant": c.tenant,
        "phase": c.phase.value,
        "version": c.version,
        "provider": c.spec.provider,
        "flavour": c.spec.flavour,
        "ha": c.spec.ha,
        "created_at": c.created_at.isoformat(),
        "description": c.spec.description,
        "failure": (
            ClusterFailure(operation=failure.operation.value, step=failure.step, reason=failure.reason, at=failure.at)
            if failure
            else None
        ),
    }


@app.query(ListClusters)
async def list_clusters(req: ListClusters) -> ClusterList:
    col = app.store.collection(CLUSTERS)
    recs = await col.list(where={"tenant": req.tenant}, after=req.after, limit=req.limit)
    limits = await tenant_limits(req.tenant)
    count = await col.count(where={"tenant": req.tenant})
    return ClusterList(
        items=[ClusterSummary(**_summary_fields(Cluster.from_doc(r.data))) for r in recs],
        remaining=max(limits.clusters - count, 0),
        limit=limits.clusters,
    )


async def _control_plane(c: Cluster) -> ControlPlaneHealth | ControlPlaneUnreachable | None:
    if c.phase not in (Phase.RUNNING, Phase.UPGRADING, Phase.FAILED):
        return None
    try:
        async with asyncio.timeout(TENANT_API_TIMEOUT):
            health = await wiring.provider_for(c).health(ref_of(c))
    except Exception as exc:
        return ControlPlaneUnreachable(error=str(exc) or type(exc).__name__)
    return ControlPlaneHealth(healthy=health.healthy, components=dict(health.components))


async def _allocation(c: Cluster) -> ClusterAllocation | AllocationUnavailable | None:
    if c.phase not in (Phase.RUNNING, Phase.UPGRADING):
        return None
    try:
        api = await tenant_api(c)
        try:
            async with asyncio.timeout(TENANT_API_TIMEOUT):
                nodes = await kube.list_labelled(api, "Node", "")
                pods = await kube.list_labelled(api, "Pod", "")
        finally:
            await api.close()
    except Exception as exc:
        return AllocationUnavailable(error=f"tenant API unreachable: {str(exc) or type(exc).__name__}")
    return ClusterAllocation(**allocation(nodes, pods).model_dump())


@app.query(GetCluster)
async def get_cluster(req: GetCluster) -> ClusterDetail:
    """The detail page: basic info, network, other, allocation, control-plane health, timeline."""
    c = await cluster_or_404(req)
    spec = c.spec
    return ClusterDetail(
        **_summary_fields(c),
        basic=ClusterBasic(
            id=c.id,
            version=c.version,
            flavour=f"{spec.flavour_info.code} | {spec.flavour} nodes",
            ha=spec.ha,
            multi_az=spec.multi_az,
            created_at=c.created_at.isoformat(),
            upgrades_to=next_versions(c.version) if c.version else [],
        ),
        network=ClusterNetwork(
            network_model=spec.network_model,
            vpc_cidr=spec.vpc_cidr,
            subnet_cidr=spec.subnet_cidr,
            kube_proxy_mode=spec.kube_proxy_mode,
            service_cidr=spec.service_cidr,
            pod_cidr=spec.pod_cidr,
            pod_capacity=spec.pod_capacity(),
            dns_ip=spec.dns_ip(),
        ),
        other=ClusterOther(
            billing_mode=spec.billing_mode,
            authentication="X509" if spec.x509_auth else "token",
            authorization="RBAC" if spec.rbac else "AlwaysAllow",
            description=spec.description or "--",
            region=spec.region,
            ca_rotation=c.ca_rotation,
        ),
        timeline=[TimelineRow(**e.model_dump(), title=e.title) for e in c.timeline],
        addons={n: AddonState(**a.model_dump()) for n, a in c.addons.items()},
        control_plane=await _control_plane(c),
        allocation=await _allocation(c),
    )


@app.query(GetKubeconfig)
async def get_kubeconfig(req: GetKubeconfig) -> Kubeconfig:
    c = await cluster_or_404(req)
    if c.phase not in (Phase.RUNNING, Phase.UPGRADING):
        raise QueryError(409, f"cluster {c.name} is {c.phase}; its kubeconfig is published once it is Running")
    kubeconfig = await wiring.provider_for(c).admin_kubeconfig(ref_of(c))
    if req.released_to:  # to a person, not a service: on the audit trail
        await log_fact(c, AdminKubeconfigReleased(cluster=c.name, cluster_id=c.id, released_to=req.released_to))
    return Kubeconfig(cluster=c.name, kubeconfig=yaml.safe_dump(kubeconfig))


# --- the creation form ------------------------------------------------------------------
@app.query(ValidateCluster)
async def validate_cluster(req: ValidateCluster) -> ClusterValidation:
    """What the creation form shows before submit: every bad field, the chosen pod range and its capacity."""
    try:
        spec = parse_spec(req.spec, offer=wiring.offer())
    except ValidationFailed as exc:
        return ClusterValidation(valid=False, errors=_problems(exc.errors))
    return ClusterValidation(
        valid=True,
        errors=[],
        spec=spec.model_dump(mode="json"),
        pod_capacity=pod_capacity(parse_cidr(spec.pod_cidr or "0.0.0.0/32")),
        subnet_available_ips=subnet_available_ips(parse_cidr(spec.subnet_cidr)),
    )


@app.query(GetClusterOptions)
async def cluster_options(_: GetClusterOptions) -> ClusterOptions:
    offer = wiring.offer()
    return ClusterOptions(
        versions=list(offer.versions),
        default_version=offer.default_version,
        providers=list(offer.providers),
        default_provider=offer.default_provider,
        flavours=[FlavourOption(nodes=f.nodes, code=f.code) for f in FLAVOURS.values()],
        network_models=list(NETWORK_MODELS),
        kube_proxy_modes=list(KUBE_PROXY_MODES),
        billing_modes=list(BILLING_MODES),
    )


# --- tenant limits ----------------------------------------------------------------------
async def _usage(tenant: str) -> TenantUsage:
    return TenantUsage(
        clusters=await app.store.collection(CLUSTERS).count(where={"tenant": tenant}),
        nodes=await app.store.collection(TENANT_NODES).count(where={"tenant": tenant}),
    )


@app.query(GetTenantLimits)
async def get_tenant_limits(req: GetTenantLimits) -> TenantLimitsReport:
    limits = await tenant_limits(req.tenant)
    usage = await _usage(req.tenant)
    left = remaining(limits, usage)
    return TenantLimitsReport(
        limits=TenantLimitValues(**limits.model_dump()),
        usage=TenantCounts(**usage.model_dump()),
        remaining=TenantCounts(**left.model_dump()),
    )


@app.query(CheckNodeQuota)
async def check_node_quota(req: CheckNodeQuota) -> NodeQuota:
    """Whether ``adding`` more nodes keep the tenant within its node limit (node-manager asks
    before it adds nodes; the count is what it reported through NodeAdded/NodeRemoved)."""
    limits = await tenant_limits(req.tenant)
    used = await app.store.collection(TENANT_NODES).count(where={"tenant": req.tenant})
    try:
        check_nodes_allowed(limits, TenantUsage(nodes=used), adding=req.adding)
    except LimitExceeded as exc:
        reason = f"{exc}: adding {req.adding} node(s) to cluster {req.cluster} would make {used + req.adding}"
        return NodeQuota(allowed=False, reason=reason, limit=limits.nodes, used=used)
    return NodeQuota(allowed=True, reason="", limit=limits.nodes, used=used)


# --- namespaces -------------------------------------------------------------------------
async def _live_namespaces(c: Cluster) -> list[dict[str, Any]]:
    """The tenant cluster's namespaces; empty when it is not Running or does not answer."""
    if c.phase not in (Phase.RUNNING, Phase.UPGRADING):
        return []
    try:
        api = await tenant_api(c)
        try:
            async with asyncio.timeout(TENANT_API_TIMEOUT):
                return await kube.list_labelled(api, "Namespace", "")
        finally:
            await api.close()
    except Exception:
        return []


@app.query(ListNamespaces)
async def list_namespaces(req: ListNamespaces) -> NamespaceList:
    c = await cluster_or_404(req)
    managed = {
        r.data["name"]: r.data
        for r in await app.store.collection(NAMESPACES).list(where={"tenant": c.tenant, "cluster": c.name}, limit=1000)
    }
    by_name = {n["metadata"]["name"]: n for n in await _live_namespaces(c)}
    names = sorted({*by_name, *managed} - set(HIDDEN_NAMESPACES))
    items: list[NamespaceRow] = []
    for name in names:
        obj, rec = by_name.get(name) or {}, managed.get(name)
        spec = NamespaceSpec.model_validate(rec["spec"]) if rec else None
        meta = obj.get("metadata", {})
        items.append(
            NamespaceRow(
                name=name,
                status=obj.get("status", {}).get("phase", "Unknown"),
                created_at=meta.get("creationTimestamp") or (rec or {}).get("created_at"),
                description=spec.description if spec else "",
                managed=rec is not None,
                isolated=spec.isolated if spec else False,
                node_selector=(meta.get("annotations") or {}).get(NODE_SELECTOR_ANNOTATION, ""),
                quota=spec.quota if spec else {},
            )
        )
    existing = len(set(SYSTEM_NAMESPACES) | set(names))
    limits = await tenant_limits(c.tenant)
    return NamespaceList(
        items=items,
        remaining=namespaces_remaining(limits, existing=existing),
        limit=limits.namespaces_per_cluster,
    )


@app.query(ValidateNamespace)
async def validate_namespace(req: ValidateNamespace) -> NamespaceValidation:
    try:
        spec = parse_namespace(req.namespace)
    except ValidationFailed as exc:
        return NamespaceValidation(valid=False, errors=_problems(exc.errors))
    return NamespaceValidation(valid=True, errors=[], namespace=spec.model_dump(mode="json"))


# --- addons -----------------------------------------------------------------------------
def _addon_row(a: Addon, c: Cluster) -> AddonRow:
    state = c.addons.get(a.name)
    return AddonRow(
        name=a.name,
        description=a.description,
        namespace=a.namespace,
        chart=chart_version(a.chart),
        status=state.status if state else "not installed",
        version=state.version if state else "",
        message=state.message if state else "",
        updated_at=state.updated_at if state else None,
    )


@app.query(ListAddons)
async def list_addons(req: ListAddons) -> AddonList:
    c = await cluster_or_404(req)
    return AddonList(items=[_addon_row(a, c) for a in CATALOGUE.values()])


@app.query(GetAddon)
async def get_addon(req: GetAddon) -> AddonRow:
    c = await cluster_or_404(req)
    a = CATALOGUE.get(req.addon)
    if a is None:
        raise QueryError(404, f"addon {req.addon} not found (the catalogue has {', '.join(CATALOGUE)})")
    return _addon_row(a, c)
