"""release-orchestrator's contract: commands on ``berth.cmd.release-orchestrator.*``, facts on
``berth.evt.release.*``."""

from .messages import (
    AbortRelease as AbortRelease,
)
from .messages import (
    AnalysisFact as AnalysisFact,
)
from .messages import (
    AnalysisFailed as AnalysisFailed,
)
from .messages import (
    AnalysisPassed as AnalysisPassed,
)
from .messages import (
    ConfigChanged as ConfigChanged,
)
from .messages import (
    CreateRelease as CreateRelease,
)
from .messages import (
    DeleteTemplate as DeleteTemplate,
)
from .messages import (
    PromoteRelease as PromoteRelease,
)
from .messages import (
    PutTemplate as PutTemplate,
)
from .messages import (
    ReleaseFact as ReleaseFact,
)
from .messages import (
    ReleaseFailed as ReleaseFailed,
)
from .messages import (
    ReleasePromoted as ReleasePromoted,
)
from .messages import (
    ReleaseRequested as ReleaseRequested,
)
from .messages import (
    ReleaseRolledBack as ReleaseRolledBack,
)
from .messages import (
    RollbackConfig as RollbackConfig,
)
from .messages import (
    RollbackRelease as RollbackRelease,
)
from .messages import (
    ScaleWorkload as ScaleWorkload,
)
from .messages import (
    SetConfig as SetConfig,
)
from .messages import (
    StepStarted as StepStarted,
)
from .messages import (
    TemplateSaved as TemplateSaved,
)
from .messages import (
    WeightChanged as WeightChanged,
)
from .messages import (
    WorkloadScaled as WorkloadScaled,
)
from .queries import (
    AnalysisRunView as AnalysisRunView,
)
from .queries import (
    ChartRefView as ChartRefView,
)
from .queries import (
    ConfigDiff as ConfigDiff,
)
from .queries import (
    ConfigDiffReply as ConfigDiffReply,
)
from .queries import (
    ConfigHistory as ConfigHistory,
)
from .queries import (
    ConfigHistoryEntry as ConfigHistoryEntry,
)
from .queries import (
    ConfigHistoryReply as ConfigHistoryReply,
)
from .queries import (
    ConfigPage as ConfigPage,
)
from .queries import (
    ConfigView as ConfigView,
)
from .queries import (
    GetConfig as GetConfig,
)
from .queries import (
    GetRelease as GetRelease,
)
from .queries import (
    GetTemplate as GetTemplate,
)
from .queries import (
    ListConfigs as ListConfigs,
)
from .queries import (
    ListReleases as ListReleases,
)
from .queries import (
    ListTemplates as ListTemplates,
)
from .queries import (
    MeasurementView as MeasurementView,
)
from .queries import (
    ReleaseDetail as ReleaseDetail,
)
from .queries import (
    ReleasePage as ReleasePage,
)
from .queries import (
    ReleaseStepView as ReleaseStepView,
)
from .queries import (
    ReleaseSummary as ReleaseSummary,
)
from .queries import (
    RevisionView as RevisionView,
)
from .queries import (
    TemplatePage as TemplatePage,
)
from .queries import (
    TemplateView as TemplateView,
)
from .queries import (
    ValueChange as ValueChange,
)
