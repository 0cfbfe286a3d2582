"""node-manager's contract: commands on ``berth.cmd.node-manager.*``, facts on ``berth.evt.node.*``,
and the pool, label, taint and drain value objects they carry."""

from .messages import (
    AddNode as AddNode,
)
from .messages import (
    AutoscaleDecided as AutoscaleDecided,
)
from .messages import (
    ClusterRegistered as ClusterRegistered,
)
from .messages import (
    CommandFailed as CommandFailed,
)
from .messages import (
    Cordon as Cordon,
)
from .messages import (
    CreatePool as CreatePool,
)
from .messages import (
    Drain as Drain,
)
from .messages import (
    LabelsSet as LabelsSet,
)
from .messages import (
    NodeAdded as NodeAdded,
)
from .messages import (
    NodeCordoned as NodeCordoned,
)
from .messages import (
    NodeDrained as NodeDrained,
)
from .messages import (
    NodeDrainFailed as NodeDrainFailed,
)
from .messages import (
    NodeNotReady as NodeNotReady,
)
from .messages import (
    NodeRemoved as NodeRemoved,
)
from .messages import (
    NodeRepaired as NodeRepaired,
)
from .messages import (
    NodeUncordoned as NodeUncordoned,
)
from .messages import (
    PoolCreated as PoolCreated,
)
from .messages import (
    PoolScaled as PoolScaled,
)
from .messages import (
    PoolUpgraded as PoolUpgraded,
)
from .messages import (
    RegisterCluster as RegisterCluster,
)
from .messages import (
    RemoveNode as RemoveNode,
)
from .messages import (
    ScalePool as ScalePool,
)
from .messages import (
    SetLabels as SetLabels,
)
from .messages import (
    SetTaints as SetTaints,
)
from .messages import (
    TaintsSet as TaintsSet,
)
from .messages import (
    Uncordon as Uncordon,
)
from .messages import (
    UpgradePools as UpgradePools,
)
from .queries import (
    GetJoinCommand as GetJoinCommand,
)
from .queries import (
    GetNode as GetNode,
)
from .queries import (
    GetPool as GetPool,
)
from .queries import (
    JoinCommand as JoinCommand,
)
from .queries import (
    ListNodes as ListNodes,
)
from .queries import (
    ListPools as ListPools,
)
from .queries import (
    NodeDetail as NodeDetail,
)
from .queries import (
    NodeList as NodeList,
)
from .queries import (
    NodeRow as NodeRow,
)
from .queries import (
    NodeStatus as NodeStatus,
)
from .queries import (
    PoolDetail as PoolDetail,
)
from .queries import (
    PoolList as PoolList,
)
from .queries import (
    Source as Source,
)
