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
