"""cluster-manager's contract: commands on ``berth.cmd.cluster-manager.*``, facts on ``berth.evt.cluster.*``."""

from .messages import (
    AddonFailed as AddonFailed,
)
from .messages import (
    AddonInstalled as AddonInstalled,
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
