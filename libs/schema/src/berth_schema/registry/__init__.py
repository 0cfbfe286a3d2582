"""registry-sync's contract: commands on ``berth.cmd.registry-sync.*``, facts on ``berth.evt.registry.*``,
and the registry, policy and DR-pair specs they carry."""

from .messages import (
    ArtifactCopied as ArtifactCopied,
)
from .messages import (
    DeletePolicy as DeletePolicy,
)
from .messages import (
    DeleteRegistry as DeleteRegistry,
)
from .messages import (
    DrSwitch as DrSwitch,
)
from .messages import (
    DrSwitched as DrSwitched,
)
from .messages import (
    ExecutionFailed as ExecutionFailed,
)
from .messages import (
    ExecutionProgress as ExecutionProgress,
)
from .messages import (
    ExecutionStarted as ExecutionStarted,
)
from .messages import (
    ExecutionSucceeded as ExecutionSucceeded,
)
from .messages import (
    ImagePushed as ImagePushed,
)
from .messages import (
    IngestWebhook as IngestWebhook,
)
from .messages import (
    PutDrPair as PutDrPair,
)
from .messages import (
    PutPolicy as PutPolicy,
)
from .messages import (
    PutRegistry as PutRegistry,
)
from .messages import (
    RetryExecution as RetryExecution,
)
from .messages import (
    RunPolicy as RunPolicy,
)
from .queries import (
    DrStatus as DrStatus,
)
from .queries import (
    ExecStatus as ExecStatus,
)
from .queries import (
    ExecutionDetail as ExecutionDetail,
)
from .queries import (
    ExecutionList as ExecutionList,
)
from .queries import (
    ExecutionSummary as ExecutionSummary,
)
from .queries import (
    ExecutionTask as ExecutionTask,
)
from .queries import (
    GetDrStatus as GetDrStatus,
)
from .queries import (
    GetExecution as GetExecution,
)
from .queries import (
    ListExecutions as ListExecutions,
)
from .queries import (
    ListPolicies as ListPolicies,
)
from .queries import (
    ListRegistries as ListRegistries,
)
from .queries import (
    PolicyInfo as PolicyInfo,
)
from .queries import (
    PolicyList as PolicyList,
)
from .queries import (
    PolicySchedule as PolicySchedule,
)
from .queries import (
    RegistryInfo as RegistryInfo,
)
from .queries import (
    RegistryList as RegistryList,
)
from .queries import (
    TaskStatus as TaskStatus,
)
from .queries import (
    Trigger as Trigger,
)
