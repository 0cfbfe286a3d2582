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
    IngestCallStatus as IngestCallStatus,
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
from .queries import (
    AlertPage as AlertPage,
)
from .queries import (
    AlertView as AlertView,
)
from .queries import (
    ChannelPage as ChannelPage,
)
from .queries import (
    ChannelView as ChannelView,
)
from .queries import (
    DeadLetterPage as DeadLetterPage,
)
from .queries import (
    DeadLetterView as DeadLetterView,
)
from .queries import (
    ListAlerts as ListAlerts,
)
from .queries import (
    ListChannels as ListChannels,
)
from .queries import (
    ListDeadLetters as ListDeadLetters,
)
from .queries import (
    ListNotifications as ListNotifications,
)
from .queries import (
    ListRoutes as ListRoutes,
)
from .queries import (
    ListScalingPolicies as ListScalingPolicies,
)
from .queries import (
    ListSilences as ListSilences,
)
from .queries import (
    MatcherView as MatcherView,
)
from .queries import (
    MentionsView as MentionsView,
)
from .queries import (
    MessagePart as MessagePart,
)
from .queries import (
    NotificationPage as NotificationPage,
)
from .queries import (
    NotificationView as NotificationView,
)
from .queries import (
    PreviewTemplate as PreviewTemplate,
)
from .queries import (
    RenderRules as RenderRules,
)
from .queries import (
    RoutePage as RoutePage,
)
from .queries import (
    RouteView as RouteView,
)
from .queries import (
    RulePack as RulePack,
)
from .queries import (
    ScaleDecisionView as ScaleDecisionView,
)
from .queries import (
    ScalingPolicyPage as ScalingPolicyPage,
)
from .queries import (
    ScalingPolicyView as ScalingPolicyView,
)
from .queries import (
    SilencePage as SilencePage,
)
from .queries import (
    SilenceView as SilenceView,
)
from .queries import (
    TemplatePreview as TemplatePreview,
)
