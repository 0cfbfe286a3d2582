"""dr-switcher's contract: commands on ``berth.cmd.dr-switcher.*``, facts on ``berth.evt.dr.*``."""

from .messages import (
    CreateGroup as CreateGroup,
)
from .messages import (
    DeleteGroup as DeleteGroup,
)
from .messages import (
    Drill as Drill,
)
from .messages import (
    Failback as Failback,
)
from .messages import (
    GroupCreated as GroupCreated,
)
from .messages import (
    GroupDeleted as GroupDeleted,
)
from .messages import (
    GroupStateChanged as GroupStateChanged,
)
from .messages import (
    GroupUpdated as GroupUpdated,
)
from .messages import (
    PlanFailed as PlanFailed,
)
from .messages import (
    PlanFinished as PlanFinished,
)
from .messages import (
    PlanStarted as PlanStarted,
)
from .messages import (
    ProbeFailed as ProbeFailed,
)
from .messages import (
    ProbeRecovered as ProbeRecovered,
)
from .messages import (
    Resume as Resume,
)
from .messages import (
    Rollback as Rollback,
)
from .messages import (
    Switched as Switched,
)
from .messages import (
    SwitchFailed as SwitchFailed,
)
from .messages import (
    Switchover as Switchover,
)
from .messages import (
    SwitchStarted as SwitchStarted,
)
from .messages import (
    UpdateGroup as UpdateGroup,
)
from .queries import (
    DecisionView as DecisionView,
)
from .queries import (
    DrillView as DrillView,
)
from .queries import (
    GetGroup as GetGroup,
)
from .queries import (
    GetSwitchHistory as GetSwitchHistory,
)
from .queries import (
    GroupDetail as GroupDetail,
)
from .queries import (
    GroupHealth as GroupHealth,
)
from .queries import (
    GroupPage as GroupPage,
)
from .queries import (
    GroupSummary as GroupSummary,
)
from .queries import (
    HealthHistoryEntry as HealthHistoryEntry,
)
from .queries import (
    ListGroups as ListGroups,
)
from .queries import (
    PendingSwitchView as PendingSwitchView,
)
from .queries import (
    PlanActionView as PlanActionView,
)
from .queries import (
    PlanStepView as PlanStepView,
)
from .queries import (
    PlanView as PlanView,
)
from .queries import (
    ProbeResultView as ProbeResultView,
)
from .queries import (
    SiteHealthView as SiteHealthView,
)
from .queries import (
    SiteSummary as SiteSummary,
)
from .queries import (
    SwitchHistory as SwitchHistory,
)
from .queries import (
    SwitchHistoryEntry as SwitchHistoryEntry,
)
from .queries import (
    SwitchLogEntryView as SwitchLogEntryView,
)
from .queries import (
    WitnessView as WitnessView,
)
