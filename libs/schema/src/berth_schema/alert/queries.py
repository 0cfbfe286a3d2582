"""Queries monitor-alert answers (``berth.api.monitor-alert.<op>``): alerts, channels, routes,
silences, notifications, dead letters, scaling policies, template previews and rule packs.

A query without ``tenant`` reads monitor-alert's default tenant (``BERTH_MONITOR_DEFAULT_TENANT``).
No reply carries a channel secret: signing secrets and SMTP passwords are reported only as
``has_secret``, and the tokens chat platforms put in a robot's URL are masked."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from berth_common.events import query
from pydantic import ConfigDict, Field

from ..queries import Page, PageQuery, QueryRequest, Reply, TenantQuery

__all__ = [
    "AlertPage",
    "AlertView",
    "ChannelPage",
    "ChannelView",
    "DeadLetterPage",
    "DeadLetterView",
    "EscalationStepView",
    "ListAlerts",
    "ListChannels",
    "ListDeadLetters",
    "ListNotifications",
    "ListRoutes",
    "ListScalingPolicies",
    "ListSilences",
    "MatcherView",
    "MentionsView",
    "MessagePart",
    "NotificationPage",
    "NotificationView",
    "PreviewTemplate",
    "RenderRules",
    "RoutePage",
    "RouteView",
    "RulePack",
    "ScaleDecisionView",
    "ScalingPolicyPage",
    "ScalingPolicyView",
    "SilencePage",
    "SilenceView",
    "TemplatePreview",
]

IsoTime = Annotated[str, Field(description="ISO 8601 time as the service recorded it")]
ChannelKind = Literal[
    "dingtalk",
    "wecom",
    "feishu",
    "slack",
    "webhook",
    "email",
    "aliyun-sms",
    "aliyun-voice",
    "tencent-sms",
    "twilio-sms",
    "twilio-voice",
]


def _page_doc(what: str) -> str:
    return f"The tenant's {what}, at most ``limit``, in store-key order after ``after``."


# --- alerts -----------------------------------------------------------------------------
class AlertView(Reply):
    tenant: str
    fingerprint: str
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str]
    status: Literal["firing", "resolved"]
    starts_at: IsoTime
    ends_at: IsoTime | None
    group_key: str
    generator_url: str
    first_seen: IsoTime
    last_seen: IsoTime
    silenced_by: str | None = Field(description="the silence that held its notifications back")
    occurrence: IsoTime | None = Field(default=None, description="start of the current firing occurrence")
    acked_by: str | None = None
    acked_at: IsoTime | None = None
    ack_comment: str | None = None
    notified: dict[str, IsoTime] = Field(default_factory=dict, description="channel -> when it was notified")
    escalated: dict[str, IsoTime] = Field(default_factory=dict, description="channel -> when it was escalated to")
    escalation_steps: dict[str, IsoTime] = Field(
        default_factory=dict, description="'<route>#<step>' -> when that step of the route's chain was taken"
    )
    occurrence_seen: IsoTime | None = Field(default=None, description="when Berth first saw this occurrence")


class AlertPage(Page[AlertView]):
    next: str | None


@query("monitor-alert", "list-alerts", reply=AlertPage, description=_page_doc("alerts"))
class ListAlerts(PageQuery):
    status: Literal["firing", "resolved"] | None = None


# --- channels ---------------------------------------------------------------------------
class MentionsView(Reply):
    mobiles: list[str]
    user_ids: list[str]
    all: bool


class ChannelView(Reply):
    """A channel as users see it. ``url`` has its tokens masked (``***``); the signing secret,
    HMAC key or SMTP password is never shown, only whether one is set."""

    name: str
    tenant: str
    kind: ChannelKind
    url: str
    format: Literal["text", "markdown"]
    mentions: MentionsView
    timezone: str
    template: str | None
    title_template: str | None
    rate_per_minute: int | None
    max_attempts: int
    escalate_after_minutes: int | None
    escalate_to: str | None
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_starttls: bool
    email_from: str
    email_to: list[str]
    access_key_id: str = ""
    sign_name: str = ""
    sms_app_id: str = ""
    region: str = ""
    template_code: str = ""
    template_params: dict[str, str] = Field(default_factory=dict)
    recipients: list[str] = Field(default_factory=list)
    caller_id: str = ""
    callback_url: str = ""
    ack_digit: str = "1"
    has_secret: bool


class ChannelPage(Page[ChannelView]):
    next: str | None


@query("monitor-alert", "list-channels", reply=ChannelPage, description=_page_doc("channels"))
class ListChannels(PageQuery):
    pass


# --- routes -----------------------------------------------------------------------------
class MatcherView(Reply):
    name: str
    op: Literal["=", "!=", "=~", "!~"]
    value: str


class EscalationStepView(Reply):
    after_minutes: int
    channels: list[str]


class RouteView(Reply):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    name: str
    tenant: str
    order: int
    matchers: list[MatcherView]
    channels: list[str]
    continue_: bool = Field(alias="continue", description="try later routes after this one matched")
    escalation: list[EscalationStepView] = Field(default_factory=list)


class RoutePage(Page[RouteView]):
    next: str | None


@query("monitor-alert", "list-routes", reply=RoutePage, description=_page_doc("alert routes"))
class ListRoutes(PageQuery):
    pass


# --- silences ---------------------------------------------------------------------------
class SilenceView(Reply):
    id: str
    tenant: str
    matchers: list[MatcherView]
    starts_at: IsoTime
    ends_at: IsoTime
    created_by: str
    comment: str
    alertmanager_id: str | None
    alertmanager_ids: dict[str, str] = Field(
        default_factory=dict, description="Alertmanager URL -> the id of the silence pushed there"
    )
    expired: bool
    active: bool = Field(description="in its window and not expired, now")


class SilencePage(Page[SilenceView]):
    next: str | None


@query("monitor-alert", "list-silences", reply=SilencePage, description=_page_doc("silences"))
class ListSilences(PageQuery):
    pass


# --- notifications and dead letters ---------------------------------------------------
class MessagePart(Reply):
    title: str
    text: str
    to: str | None = Field(default=None, description="phone channels: the recipient of this part")
    params: dict[str, str] | None = Field(default=None, description="phone channels: rendered template parameters")


class NotificationView(Reply):
    id: str
    tenant: str
    channel: str
    kind: str
    fingerprints: list[str]
    escalation: bool
    state: Literal["pending", "failed", "sent", "dead"]
    attempts: int
    sent_parts: int
    parts: list[MessagePart]
    next_at: float = Field(description="Unix time of the next attempt")
    created_at: IsoTime
    last_error: str | None
    lease_until: float | None = Field(default=None, description="Unix time a sender holds it until")
    sent_at: IsoTime | None = None
    failed_at: IsoTime | None = None
    provider_ids: list[str] = Field(default_factory=list, description="phone channels: the provider's message/call ids")
    call_status: str | None = Field(default=None, description="twilio-voice: the last status Twilio reported")


class NotificationPage(Page[NotificationView]):
    next: str | None


@query("monitor-alert", "list-notifications", reply=NotificationPage, description=_page_doc("notifications"))
class ListNotifications(PageQuery):
    pass


class DeadLetterView(Reply):
    id: str
    tenant: str
    channel: str
    kind: str
    fingerprints: list[str]
    attempts: int
    error: str
    parts: list[MessagePart]
    failed_at: IsoTime


class DeadLetterPage(Page[DeadLetterView]):
    next: str | None


@query("monitor-alert", "list-dead-letters", reply=DeadLetterPage, description=_page_doc("dead-lettered notifications"))
class ListDeadLetters(PageQuery):
    pass


# --- scaling policies -------------------------------------------------------------------
class ScaleDecisionView(Reply):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    at: IsoTime
    from_: int = Field(alias="from")
    to: int
    reason: str


class ScalingPolicyView(Reply):
    tenant: str
    name: str
    policy: dict[str, Any] = Field(description="the policy as put (target, trigger, min, max, step, cool-down)")
    current: int | None = Field(description="the size last decided (None before the first decision)")
    decisions: list[ScaleDecisionView] = Field(default_factory=list)
    last_scaled_at: IsoTime | None = None
    last_evaluated_at: IsoTime | None = None
    last_value: float | None = None


class ScalingPolicyPage(Page[ScalingPolicyView]):
    next: str | None


@query("monitor-alert", "list-scaling-policies", reply=ScalingPolicyPage, description=_page_doc("scaling policies"))
class ListScalingPolicies(PageQuery):
    pass


# --- templates and rules ----------------------------------------------------------------
class TemplatePreview(Reply):
    title: str
    text: str
    parts: list[MessagePart] = Field(description="the text split to the channel's message limit")
    limit: tuple[int, Literal["bytes", "chars"]]


@query("monitor-alert", "preview-template", reply=TemplatePreview)
class PreviewTemplate(TenantQuery):
    """Render a channel's template, a stored channel's (``name``) or one given whole
    (``channel``), optionally with another ``template``, for ``alerts`` (Alertmanager alert
    objects) or sample alerts."""

    channel: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=63)
    template: str | None = Field(default=None, max_length=65536)
    alerts: list[dict[str, Any]] = Field(default_factory=list, max_length=1000)


class RulePack(Reply):
    cluster: str
    yaml: str = Field(description="a Prometheus rule file (groups:) for the cluster")


@query("monitor-alert", "render-rules", reply=RulePack)
class RenderRules(QueryRequest):
    """Berth's alerting rules for one cluster, labelled with it."""

    cluster: str = Field(min_length=1, max_length=63)
