"""Facts cluster-manager publishes (``berth.evt.cluster.*``) and commands it accepts
(``berth.cmd.cluster-manager.*``)."""

from __future__ import annotations

from typing import Any

from berth_common.events import command, event
from pydantic import BaseModel, Field

from .namespace import NamespaceSpec
from .spec import ClusterSpec

CLUSTER = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


# --- commands -------------------------------------------------------------------------
@command("berth.cmd.cluster-manager.create.v1", service="cluster-manager", verb="create")
class CreateCluster(BaseModel):
    """Create a cluster from the creation form."""

    spec: ClusterSpec


@command("berth.cmd.cluster-manager.upgrade.v1", service="cluster-manager", verb="upgrade")
class UpgradeCluster(BaseModel):
    cluster: str = CLUSTER
    version: str


@command("berth.cmd.cluster-manager.delete.v1", service="cluster-manager", verb="delete")
class DeleteCluster(BaseModel):
    cluster: str = CLUSTER


@command("berth.cmd.cluster-manager.retry.v1", service="cluster-manager", verb="retry")
class RetryCluster(BaseModel):
    """Resume a Failed cluster's operation from the step that failed."""

    cluster: str = CLUSTER


@command("berth.cmd.cluster-manager.rotate-ca-start.v1", service="cluster-manager", verb="rotate-ca-start")
class StartCaRotation(BaseModel):
    cluster: str = CLUSTER


@command("berth.cmd.cluster-manager.rotate-ca-complete.v1", service="cluster-manager", verb="rotate-ca-complete")
class CompleteCaRotation(BaseModel):
    cluster: str = CLUSTER


@command("berth.cmd.cluster-manager.renew-certificates.v1", service="cluster-manager", verb="renew-certificates")
class RenewCertificates(BaseModel):
    cluster: str = CLUSTER


@command("berth.cmd.cluster-manager.create-namespace.v1", service="cluster-manager", verb="create-namespace")
class CreateNamespace(BaseModel):
    """Create a namespace in a tenant cluster."""

    cluster: str = CLUSTER
    namespace: NamespaceSpec


@command("berth.cmd.cluster-manager.delete-namespace.v1", service="cluster-manager", verb="delete-namespace")
class DeleteNamespace(BaseModel):
    cluster: str = CLUSTER
    namespace: str = CLUSTER


@command("berth.cmd.cluster-manager.set-quota.v1", service="cluster-manager", verb="set-quota")
class SetQuota(BaseModel):
    """Set a namespace's ResourceQuota (and optionally its LimitRange, isolation and node affinity)."""

    cluster: str = CLUSTER
    namespace: str = CLUSTER
    quota: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] | None = None
    isolated: bool | None = None
    node_selector: dict[str, str] | None = None


@command("berth.cmd.cluster-manager.set-limits.v1", service="cluster-manager", verb="set-limits")
class SetTenantLimits(BaseModel):
    """Per-tenant limits on clusters, nodes and namespaces per cluster (platform admins)."""

    clusters: int | None = Field(default=None, ge=0)
    nodes: int | None = Field(default=None, ge=0)
    namespaces_per_cluster: int | None = Field(default=None, ge=0)


@command("berth.cmd.cluster-manager.install-addon.v1", service="cluster-manager", verb="install-addon")
class InstallAddon(BaseModel):
    """Install or upgrade an addon (coredns, metrics-server, ingress-nginx, monitoring-agent)."""

    cluster: str = CLUSTER
    addon: str
    values: dict[str, Any] = Field(default_factory=dict)


@command("berth.cmd.cluster-manager.uninstall-addon.v1", service="cluster-manager", verb="uninstall-addon")
class UninstallAddon(BaseModel):
    cluster: str = CLUSTER
    addon: str


# --- facts ----------------------------------------------------------------------------
class _ClusterFact(BaseModel):
    cluster: str
    cluster_id: str = ""


@event("berth.cluster.requested.v1", domain="cluster", name="requested")
class ClusterRequested(_ClusterFact):
    provider: str
    version: str
    spec: dict[str, Any]


@event("berth.cluster.step.v1", domain="cluster", name="step")
class ClusterStep(_ClusterFact):
    """One row of the cluster's event timeline: a step started, succeeded or failed."""

    operation: str
    step: str
    result: str
    message: str = ""


@event("berth.cluster.running.v1", domain="cluster", name="running")
class ClusterRunning(_ClusterFact):
    version: str
    provider: str


@event("berth.cluster.failed.v1", domain="cluster", name="failed")
class ClusterFailed(_ClusterFact):
    operation: str
    step: str
    reason: str
    errors: list[dict[str, str]] = Field(default_factory=list, description="field errors of a refused request")


@event("berth.cluster.upgrade-started.v1", domain="cluster", name="upgrade-started")
class ClusterUpgradeStarted(_ClusterFact):
    from_version: str
    to_version: str


@event("berth.cluster.upgraded.v1", domain="cluster", name="upgraded")
class ClusterUpgraded(_ClusterFact):
    version: str


@event("berth.cluster.deleted.v1", domain="cluster", name="deleted")
class ClusterDeleted(_ClusterFact):
    pass


@event("berth.cluster.cert-renewed.v1", domain="cluster", name="cert-renewed")
class CertRenewed(_ClusterFact):
    certificates: list[str]


@event("berth.cluster.join-token-issued.v1", domain="cluster", name="join-token-issued")
class JoinTokenIssued(_ClusterFact):
    """A bootstrap token nodes can join with (its id only: the secret goes to the asker alone)."""

    token_id: str
    expires: str
    description: str = ""


@event("berth.cluster.join-token-revoked.v1", domain="cluster", name="join-token-revoked")
class JoinTokenRevoked(_ClusterFact):
    token_id: str


@event("berth.cluster.user-kubeconfig-issued.v1", domain="cluster", name="user-kubeconfig-issued")
class UserKubeconfigIssued(_ClusterFact):
    """A person got a kubeconfig of the cluster (its id and rights; the token goes to them alone)."""

    credential_id: str
    user: str
    role: str
    namespaces: list[str] = Field(default_factory=list)
    service_account: str
    expires_at: str = Field(description="ISO 8601")
    by: str = Field(default="", description="who asked, when the gateway said so")


@event("berth.cluster.user-kubeconfig-revoked.v1", domain="cluster", name="user-kubeconfig-revoked")
class UserKubeconfigRevoked(_ClusterFact):
    """A person's access was revoked: their ServiceAccount, every token of it and its bindings are gone."""

    user: str
    role: str = Field(default="", description="the role they held")
    service_account: str
    credential_id: str = Field(default="", description="the last token issued")
    expires_at: str = Field(default="", description="when that token would have expired (ISO 8601)")
    by: str = ""


@event("berth.cluster.admin-kubeconfig-released.v1", domain="cluster", name="admin-kubeconfig-released")
class AdminKubeconfigReleased(_ClusterFact):
    """The cluster's admin kubeconfig was handed to a person (a platform-admin who asked explicitly)."""

    released_to: str


@event("berth.cluster.ca-rotation-started.v1", domain="cluster", name="ca-rotation-started")
class CaRotationStarted(_ClusterFact):
    certificates: list[str]


@event("berth.cluster.ca-rotation-completed.v1", domain="cluster", name="ca-rotation-completed")
class CaRotationCompleted(_ClusterFact):
    pass


@event("berth.cluster.namespace-created.v1", domain="cluster", name="namespace-created")
class NamespaceCreated(_ClusterFact):
    namespace: str
    isolated: bool = False
    node_selector: dict[str, str] = Field(default_factory=dict)


@event("berth.cluster.namespace-deleted.v1", domain="cluster", name="namespace-deleted")
class NamespaceDeleted(_ClusterFact):
    namespace: str


@event("berth.cluster.quota-changed.v1", domain="cluster", name="quota-changed")
class QuotaChanged(BaseModel):
    """A namespace quota (scope namespace) or the tenant's limits (scope tenant) changed."""

    scope: str
    cluster: str = ""
    namespace: str = ""
    quota: dict[str, Any]


@event("berth.cluster.addon-installed.v1", domain="cluster", name="addon-installed")
class AddonInstalled(_ClusterFact):
    addon: str
    version: str


@event("berth.cluster.addon-failed.v1", domain="cluster", name="addon-failed")
class AddonFailed(_ClusterFact):
    addon: str
    reason: str


__all__ = [
    "AddonFailed",
    "AddonInstalled",
    "AdminKubeconfigReleased",
    "CaRotationCompleted",
    "CaRotationStarted",
    "CertRenewed",
    "ClusterDeleted",
    "ClusterFailed",
    "ClusterRequested",
    "ClusterRunning",
    "ClusterStep",
    "ClusterUpgradeStarted",
    "ClusterUpgraded",
    "CompleteCaRotation",
    "CreateCluster",
    "CreateNamespace",
    "DeleteCluster",
    "DeleteNamespace",
    "InstallAddon",
    "JoinTokenIssued",
    "JoinTokenRevoked",
    "NamespaceCreated",
    "NamespaceDeleted",
    "QuotaChanged",
    "RenewCertificates",
    "RetryCluster",
    "SetQuota",
    "SetTenantLimits",
    "StartCaRotation",
    "UninstallAddon",
    "UpgradeCluster",
    "UserKubeconfigIssued",
    "UserKubeconfigRevoked",
]
