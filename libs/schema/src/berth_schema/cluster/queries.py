"""Queries cluster-manager answers (``berth.api.cluster-manager.<op>``): clusters, their
namespaces, addons and join tokens, the creation form's checks and the tenant's limits.

Reply field names are what the gateway, the CLI and the console read; node-manager and
release-orchestrator ask ``get-kubeconfig`` (the admin credential: services and platform-admins
only), node-manager ``issue-join-token`` and ``check-node-quota``. People get a kubeconfig of their
own through ``issue-user-kubeconfig``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from berth_common.events import query
from pydantic import Field

from ..queries import Name, Page, PageQuery, QueryRequest, Reply, TenantQuery

__all__ = [
    "AddonList",
    "AddonRow",
    "AddonState",
    "AllocationUnavailable",
    "CheckNodeQuota",
    "ClusterAllocation",
    "ClusterBasic",
    "ClusterDetail",
    "ClusterFailure",
    "ClusterList",
    "ClusterNetwork",
    "ClusterOptions",
    "ClusterOther",
    "ClusterQuery",
    "ClusterSummary",
    "ClusterValidation",
    "ControlPlaneHealth",
    "ControlPlaneUnreachable",
    "FieldProblem",
    "FlavourOption",
    "GetAddon",
    "GetCluster",
    "GetClusterOptions",
    "GetKubeconfig",
    "GetTenantLimits",
    "IssueJoinToken",
    "IssueUserKubeconfig",
    "JoinTokenGrant",
    "JoinTokenList",
    "JoinTokenRow",
    "Kubeconfig",
    "ListAddons",
    "ListClusters",
    "ListJoinTokens",
    "ListNamespaces",
    "ListUserKubeconfigs",
    "NamespaceList",
    "NamespaceRow",
    "NamespaceValidation",
    "NodeQuota",
    "RevokeJoinToken",
    "RevokeUserKubeconfig",
    "RevokedJoinToken",
    "RevokedUserKubeconfig",
    "TenantCounts",
    "TenantLimitValues",
    "TenantLimitsReport",
    "TimelineRow",
    "UserKubeconfig",
    "UserKubeconfigList",
    "UserKubeconfigRow",
    "UserRole",
    "ValidateCluster",
    "ValidateNamespace",
]

SERVICE = "cluster-manager"
DEFAULT_JOIN_TTL = 24 * 3600  # kubeadm's default
MIN_JOIN_TTL = 60
MAX_JOIN_TTL = 7 * 24 * 3600
DEFAULT_USER_KUBECONFIG_TTL = 8 * 3600
MIN_USER_KUBECONFIG_TTL = 600  # the API server's floor for a TokenRequest
MAX_USER_KUBECONFIG_TTL = 24 * 3600


class ClusterQuery(TenantQuery):
    """A query about one cluster of one tenant."""

    tenant: Name  # required: clusters are always looked up per tenant
    cluster: Name


class FieldProblem(Reply):
    field: str
    message: str


# --- clusters --------------------------------------------------------------------------
class ClusterFailure(Reply):
    """Why the cluster's last operation stopped."""

    operation: str
    step: str
    reason: str
    at: datetime


class ClusterSummary(Reply):
    """A row of ``list-clusters``."""

    id: str
    name: str
    tenant: str
    phase: str = Field(description="Pending, Provisioning, Running, Upgrading, Deleting, Failed")
    version: str | None = Field(description="what the control plane runs; None until first Running")
    provider: str
    flavour: int
    ha: bool
    created_at: str = Field(description="ISO 8601")
    description: str
    failure: ClusterFailure | None


class ClusterList(Page[ClusterSummary]):
    remaining: int = Field(description="clusters the tenant can still create")
    limit: int = Field(description="the tenant's cluster limit")


@query(SERVICE, "list-clusters", reply=ClusterList)
class ListClusters(PageQuery):
    """The tenant's clusters in name order."""

    tenant: Name


class ClusterBasic(Reply):
    id: str
    version: str | None
    flavour: str = Field(description="'<code> | <nodes> nodes'")
    ha: bool
    multi_az: bool
    created_at: str
    upgrades_to: list[str]


class ClusterNetwork(Reply):
    network_model: str
    vpc_cidr: str
    subnet_cidr: str
    kube_proxy_mode: str
    service_cidr: str
    pod_cidr: str | None
    pod_capacity: int
    dns_ip: str


class ClusterOther(Reply):
    billing_mode: str
    authentication: str = Field(description="X509 or token")
    authorization: str = Field(description="RBAC or AlwaysAllow")
    description: str = Field(description="'--' when empty")
    region: str
    ca_rotation: str = Field(description="idle or started")


class TimelineRow(Reply):
    """One row of the cluster's event table."""

    time: datetime
    step: str
    result: str = Field(description="requested, started, succeeded or failed")
    message: str
    operation: str
    title: str


class AddonState(Reply):
    """An addon's recorded state on the cluster."""

    name: str
    status: str = Field(description="installing, installed, failed or uninstalled")
    version: str = ""
    message: str = ""
    updated_at: datetime


class ControlPlaneHealth(Reply):
    healthy: bool
    components: dict[str, str] = Field(description="component -> Available, unhealthy, not running or a reason")


class ControlPlaneUnreachable(Reply):
    healthy: bool = False
    error: str


class ClusterAllocation(Reply):
    """CPU and memory allocation: nodes' allocatable against pods' requests."""

    cpu_allocatable: float
    cpu_requested: float
    cpu_rate: float = Field(description="0..1")
    cpu_remaining: float
    memory_allocatable_gib: float
    memory_requested_gib: float
    memory_rate: float
    memory_remaining_gib: float
    nodes: int
    pods: int


class AllocationUnavailable(Reply):
    error: str


class ClusterDetail(ClusterSummary):
    """The detail page: basic info, network, other, control-plane health, allocation, timeline."""

    basic: ClusterBasic
    network: ClusterNetwork
    other: ClusterOther
    timeline: list[TimelineRow]
    addons: dict[str, AddonState]
    control_plane: ControlPlaneHealth | ControlPlaneUnreachable | None = Field(
        description="None unless Running, Upgrading or Failed"
    )
    allocation: ClusterAllocation | AllocationUnavailable | None = Field(description="None unless Running or Upgrading")


@query(SERVICE, "get-cluster", reply=ClusterDetail)
class GetCluster(ClusterQuery):
    pass


class Kubeconfig(Reply):
    cluster: str
    kubeconfig: str = Field(description="the admin kubeconfig as YAML")


@query(SERVICE, "get-kubeconfig", reply=Kubeconfig)
class GetKubeconfig(ClusterQuery):
    """The tenant cluster's admin (system:masters) kubeconfig, 409 until the cluster is Running.
    For services (node-manager, release-orchestrator) and platform-admins who ask for it
    explicitly; everyone else gets ``issue-user-kubeconfig``."""

    released_to: str = Field(
        default="",
        max_length=256,
        description="the person it is released to (the gateway sets it); set: an admin-kubeconfig-released fact",
    )


# --- the creation form ------------------------------------------------------------------
class ClusterValidation(Reply):
    valid: bool
    errors: list[FieldProblem]
    spec: dict[str, Any] | None = Field(default=None, description="the spec with defaults filled in, when valid")
    pod_capacity: int | None = None
    subnet_available_ips: int | None = None


@query(SERVICE, "validate-cluster", reply=ClusterValidation)
class ValidateCluster(QueryRequest):
    """Check a creation form (the fields of create's ``spec``) without creating anything."""

    spec: dict[str, Any] = Field(default_factory=dict)


class FlavourOption(Reply):
    nodes: int
    code: str


class ClusterOptions(Reply):
    versions: list[str]
    default_version: str = ""
    providers: list[str] = Field(default_factory=list, description="the providers configured on this platform")
    default_provider: str = Field(default="", description="what an empty provider selects")
    flavours: list[FlavourOption]
    network_models: list[str]
    kube_proxy_modes: list[str]
    billing_modes: list[str]


@query(SERVICE, "cluster-options", reply=ClusterOptions)
class GetClusterOptions(QueryRequest):
    """What the creation form offers: versions, flavours, modes."""


# --- tenant limits ----------------------------------------------------------------------
class TenantLimitValues(Reply):
    clusters: int
    nodes: int
    namespaces_per_cluster: int


class TenantCounts(Reply):
    clusters: int
    nodes: int


class TenantLimitsReport(Reply):
    limits: TenantLimitValues
    usage: TenantCounts
    remaining: TenantCounts


@query(SERVICE, "tenant-limits", reply=TenantLimitsReport)
class GetTenantLimits(TenantQuery):
    """The tenant's limits, usage and what remains."""

    tenant: Name


class NodeQuota(Reply):
    allowed: bool
    reason: str = Field(description="why not, when not allowed; empty otherwise")
    limit: int = Field(description="the tenant's node limit")
    used: int = Field(description="nodes the tenant has now (as node-manager reported them)")


@query(SERVICE, "check-node-quota", reply=NodeQuota)
class CheckNodeQuota(TenantQuery):
    """May the tenant add ``adding`` nodes to ``cluster``? node-manager asks before it adds nodes."""

    tenant: Name
    cluster: Name
    adding: int = Field(ge=1)


# --- namespaces -------------------------------------------------------------------------
class NamespaceRow(Reply):
    name: str
    status: str = Field(description="the namespace's phase (Active, Terminating) or Unknown")
    created_at: str | None
    description: str
    managed: bool = Field(description="created through cluster-manager (system namespaces are not)")
    isolated: bool
    node_selector: str = Field(description="the namespace's node-selector annotation")
    quota: dict[str, str]


class NamespaceList(Page[NamespaceRow]):
    remaining: int = Field(description="namespaces that can still be created in the cluster")
    limit: int = Field(description="the tenant's namespaces-per-cluster limit")


@query(SERVICE, "list-namespaces", reply=NamespaceList)
class ListNamespaces(ClusterQuery):
    pass


class NamespaceValidation(Reply):
    valid: bool
    errors: list[FieldProblem]
    namespace: dict[str, Any] | None = Field(default=None, description="the namespace with defaults, when valid")


@query(SERVICE, "validate-namespace", reply=NamespaceValidation)
class ValidateNamespace(QueryRequest):
    """Check a namespace form (the fields of create-namespace's ``namespace``)."""

    namespace: dict[str, Any] = Field(default_factory=dict)


# --- addons -----------------------------------------------------------------------------
class AddonRow(Reply):
    """An addon of the catalogue with its state on the cluster."""

    name: str
    description: str
    namespace: str
    chart: str = Field(description="the chart version")
    status: str = Field(description="not installed, installing, installed, failed or uninstalled")
    version: str = ""
    message: str = ""
    updated_at: datetime | None = None


class AddonList(Page[AddonRow]):
    pass


@query(SERVICE, "list-addons", reply=AddonList)
class ListAddons(ClusterQuery):
    pass


@query(SERVICE, "get-addon", reply=AddonRow)
class GetAddon(ClusterQuery):
    """One addon's row (404 when the cluster or the addon is unknown)."""

    addon: Name


# --- join tokens ------------------------------------------------------------------------
class JoinTokenGrant(Reply):
    """A bootstrap token: the secret goes to the asker alone, never into a stream."""

    cluster: str
    token_id: str
    token: str = Field(description="<token_id>.<secret>")
    expires: str = Field(description="ISO 8601")
    server: str = Field(description="the API server URL joining machines use")
    ca_cert_hash: str = Field(description="sha256:<hex> pin of the cluster CA")
    description: str


@query(SERVICE, "issue-join-token", reply=JoinTokenGrant)
class IssueJoinToken(ClusterQuery):
    """A bootstrap token for machines to join ``cluster`` (409 unless it is Running with X.509 auth)."""

    ttl_seconds: int = Field(default=DEFAULT_JOIN_TTL, ge=MIN_JOIN_TTL, le=MAX_JOIN_TTL, strict=True)
    description: str = Field(default="", max_length=200)


class JoinTokenRow(Reply):
    token_id: str
    expires: str = Field(description="ISO 8601; empty when the token does not expire")
    description: str


class JoinTokenList(Page[JoinTokenRow]):
    pass


@query(SERVICE, "list-join-tokens", reply=JoinTokenList)
class ListJoinTokens(ClusterQuery):
    """The cluster's live join tokens (ids, expiry, description; never the secret)."""


class RevokedJoinToken(Reply):
    cluster: str
    token_id: str
    revoked: bool


@query(SERVICE, "revoke-join-token", reply=RevokedJoinToken)
class RevokeJoinToken(ClusterQuery):
    token_id: str = Field(pattern=r"^[a-z0-9]{6}$", description="six lowercase letters or digits")


# --- kubeconfigs of people --------------------------------------------------------------
UserRole = Literal["platform-admin", "tenant-admin", "developer", "viewer"]
USER_ID = Field(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f\x7f]+$", description="the Berth principal id")


class UserKubeconfig(Reply):
    """A kubeconfig that carries one person's identity (a ServiceAccount of theirs in the tenant
    cluster) and the rights of their role; the token goes to the asker alone."""

    cluster: str
    user: str
    role: str
    namespaces: list[str] = Field(description="where a developer or viewer has rights; empty for cluster-wide roles")
    service_account: str = Field(description="its name in the berth-access namespace: the identity the cluster sees")
    credential_id: str = Field(description="the token's id (its jti: what the API server's audit log records)")
    issued_at: datetime
    expires_at: datetime
    kubeconfig: str = Field(description="YAML with a bound token that expires at expires_at")


@query(SERVICE, "issue-user-kubeconfig", reply=UserKubeconfig)
class IssueUserKubeconfig(ClusterQuery):
    """A short-lived kubeconfig for ``user`` with ``role``'s rights (409 unless the cluster is
    Running with RBAC). Re-issuing sets the user's rights to the current role: a demoted user's
    older tokens lose what the role no longer grants."""

    user: str = USER_ID
    role: UserRole
    namespaces: list[Name] = Field(
        default_factory=list,
        max_length=100,
        description=(
            "developer: namespaces with edit (empty: every non-system namespace existing now); "
            "viewer: namespaces with view (empty: view cluster-wide); admins: must be empty"
        ),
    )
    ttl_seconds: int = Field(
        default=DEFAULT_USER_KUBECONFIG_TTL, ge=MIN_USER_KUBECONFIG_TTL, le=MAX_USER_KUBECONFIG_TTL, strict=True
    )
    by: str = Field(default="", max_length=256, description="who asked (the gateway's principal), for the record")


class UserKubeconfigRow(Reply):
    """Who holds access to the cluster (never the token)."""

    user: str
    role: str
    namespaces: list[str]
    service_account: str
    credential_id: str = Field(description="the last issued token's id")
    issued_at: datetime = Field(description="when the last token was issued")
    expires_at: datetime = Field(description="when the last token expires")
    expired: bool


class UserKubeconfigList(Page[UserKubeconfigRow]):
    pass


@query(SERVICE, "list-user-kubeconfigs", reply=UserKubeconfigList)
class ListUserKubeconfigs(ClusterQuery):
    """People holding a kubeconfig of the cluster, in service-account order (``user``: that one only)."""

    user: str | None = Field(default=None, min_length=1, max_length=256)
    limit: int = Field(default=100, ge=1, le=500)
    after: str | None = Field(default=None, max_length=512)


class RevokedUserKubeconfig(Reply):
    cluster: str
    user: str
    service_account: str
    revoked: bool


@query(SERVICE, "revoke-user-kubeconfig", reply=RevokedUserKubeconfig)
class RevokeUserKubeconfig(ClusterQuery):
    """Delete the user's ServiceAccount (every token of theirs stops working at once) and its
    bindings (404 when the user holds no access)."""

    user: str = USER_ID
    by: str = Field(default="", max_length=256, description="who revoked (the gateway's principal), for the record")
