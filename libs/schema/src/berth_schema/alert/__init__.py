"""monitor-alert's contract: commands on ``berth.cmd.monitor-alert.*``, facts on ``berth.evt.alert.*``."""

from .messages import (
    AckAlert as AckAlert,
)
from .messages import (
    AlertAcknowledged as AlertAcknowledged,
)
from .messages import (
    AlertFact as AlertFact,
)
from .messages import (
    AlertFiring as AlertFiring,
)
from .messages import (
    AlertNotified as AlertNotified,
)
from .messages import (
    AlertNotifyFailed as AlertNotifyFailed,
)
from .messages import (
    AlertResolved as AlertResolved,
)
from .messages import (
    AlertSilenced as AlertSilenced,
)
from .messages import (
    DeleteChannel as DeleteChannel,
)
from .messages import (
    DeleteRoute as DeleteRoute,
)
from .messages import (
    DeleteScalingPolicy as DeleteScalingPolicy,
)
from .messages import (
    IngestWebhook as IngestWebhook,
)
from .messages import (
    PutChannel as PutChannel,
)
from .messages import (
    PutRoute as PutRoute,
)
from .messages import (
    PutScalingPolicy as PutScalingPolicy,
)
from .messages import (
    ScaleDecided as ScaleDecided,
)
from .messages import (
    SilenceAlerts as SilenceAlerts,
)
