"""cluster-manager's contract: commands on ``berth.cmd.cluster-manager.*``, facts on ``berth.evt.cluster.*``,
queries on ``berth.api.cluster-manager.*``."""

from .messages import (
    AddonFailed as AddonFailed,
)
from .messages import (
    AddonInstalled as AddonInstalled,
)
from .messages import (
    AdminKubeconfigReleased as AdminKubeconfigReleased,
)
from .messages import (
    CaRotationCompleted as CaRotationCompleted,
)
from .messages import (
    CaRotationStarted as CaRotationStarted,
)
from .messages import (
    CertRenewed as CertRenewed,
)
from .messages import (
    ClusterDeleted as ClusterDeleted,
)
from .messages import (
    ClusterFailed as ClusterFailed,
)
from .messages import (
    ClusterRequested as ClusterRequested,
)
from .messages import (
    ClusterRunning as ClusterRunning,
)
from .messages import (
    ClusterStep as ClusterStep,
)
from .messages import (
    ClusterUpgraded as ClusterUpgraded,
)
from .messages import (
    ClusterUpgradeStarted as ClusterUpgradeStarted,
)
from .messages import (
    CompleteCaRotation as CompleteCaRotation,
)
from .messages import (
    CreateCluster as CreateCluster,
)
from .messages import (
    CreateNamespace as CreateNamespace,
)
from .messages import (
    DeleteCluster as DeleteCluster,
)
from .messages import (
    DeleteNamespace as DeleteNamespace,
)
from .messages import (
    InstallAddon as InstallAddon,
)
from .messages import (
    JoinTokenIssued as JoinTokenIssued,
)
from .messages import (
    JoinTokenRevoked as JoinTokenRevoked,
)
from .messages import (
    NamespaceCreated as NamespaceCreated,
)
from .messages import (
    NamespaceDeleted as NamespaceDeleted,
)
from .messages import (
    QuotaChanged as QuotaChanged,
)
from .messages import (
    RenewCertificates as RenewCertificates,
)
from .messages import (
    RetryCluster as RetryCluster,
)
from .messages import (
    SetQuota as SetQuota,
)
from .messages import (
    SetTenantLimits as SetTenantLimits,
)
from .messages import (
    StartCaRotation as StartCaRotation,
)
from .messages import (
    UninstallAddon as UninstallAddon,
)
from .messages import (
    UpgradeCluster as UpgradeCluster,
)
from .messages import (
    UserKubeconfigIssued as UserKubeconfigIssued,
)
from .messages import (
    UserKubeconfigRevoked as UserKubeconfigRevoked,
)
from .namespace import (
    ContainerLimits as ContainerLimits,
)
from .namespace import (
    NamespaceSpec as NamespaceSpec,
)
from .queries import (
    AddonList as AddonList,
)
from .queries import (
    AddonRow as AddonRow,
)
from .queries import (
    AddonState as AddonState,
)
from .queries import (
    AllocationUnavailable as AllocationUnavailable,
)
from .queries import (
    CheckNodeQuota as CheckNodeQuota,
)
from .queries import (
    ClusterAllocation as ClusterAllocation,
)
from .queries import (
    ClusterBasic as ClusterBasic,
)
from .queries import (
    ClusterDetail as ClusterDetail,
)
from .queries import (
    ClusterFailure as ClusterFailure,
)
from .queries import (
    ClusterList as ClusterList,
)
from .queries import (
    ClusterNetwork as ClusterNetwork,
)
from .queries import (
    ClusterOptions as ClusterOptions,
)
from .queries import (
    ClusterOther as ClusterOther,
)
from .queries import (
    ClusterQuery as ClusterQuery,
)
from .queries import (
    ClusterSummary as ClusterSummary,
)
from .queries import (
    ClusterValidation as ClusterValidation,
)
from .queries import (
    ControlPlaneHealth as ControlPlaneHealth,
)
from .queries import (
    ControlPlaneUnreachable as ControlPlaneUnreachable,
)
from .queries import (
    FieldProblem as FieldProblem,
)
from .queries import (
    FlavourOption as FlavourOption,
)
from .queries import (
    GetAddon as GetAddon,
)
from .queries import (
    GetCluster as GetCluster,
)
from .queries import (
    GetClusterOptions as GetClusterOptions,
)
from .queries import (
    GetKubeconfig as GetKubeconfig,
)
from .queries import (
    GetTenantLimits as GetTenantLimits,
)
from .queries import (
    IssueJoinToken as IssueJoinToken,
)
from .queries import (
    IssueUserKubeconfig as IssueUserKubeconfig,
)
from .queries import (
    JoinTokenGrant as JoinTokenGrant,
)
from .queries import (
    JoinTokenList as JoinTokenList,
)
from .queries import (
    JoinTokenRow as JoinTokenRow,
)
from .queries import (
    Kubeconfig as Kubeconfig,
)
from .queries import (
    ListAddons as ListAddons,
)
from .queries import (
    ListClusters as ListClusters,
)
from .queries import (
    ListJoinTokens as ListJoinTokens,
)
from .queries import (
    ListNamespaces as ListNamespaces,
)
from .queries import (
    ListUserKubeconfigs as ListUserKubeconfigs,
)
from .queries import (
    NamespaceList as NamespaceList,
)
from .queries import (
    NamespaceRow as NamespaceRow,
)
from .queries import (
    NamespaceValidation as NamespaceValidation,
)
from .queries import (
    NodeQuota as NodeQuota,
)
from .queries import (
    RevokedJoinToken as RevokedJoinToken,
)
from .queries import (
    RevokedUserKubeconfig as RevokedUserKubeconfig,
)
from .queries import (
    RevokeJoinToken as RevokeJoinToken,
)
from .queries import (
    RevokeUserKubeconfig as RevokeUserKubeconfig,
)
from .queries import (
    TenantCounts as TenantCounts,
)
from .queries import (
    TenantLimitsReport as TenantLimitsReport,
)
from .queries import (
    TenantLimitValues as TenantLimitValues,
)
from .queries import (
    TimelineRow as TimelineRow,
)
from .queries import (
    UserKubeconfig as UserKubeconfig,
)
from .queries import (
    UserKubeconfigList as UserKubeconfigList,
)
from .queries import (
    UserKubeconfigRow as UserKubeconfigRow,
)
from .queries import (
    UserRole as UserRole,
)
from .queries import (
    ValidateCluster as ValidateCluster,
)
from .queries import (
    ValidateNamespace as ValidateNamespace,
)
from .spec import (
    ClusterSpec as ClusterSpec,
)
