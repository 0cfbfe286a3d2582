"""Alerting: channels, alert routes, rule packs, silences, alerts, scaling policies, notifications."""

from __future__ import annotations

from ..spec import Flag, Resource, action, create, crud, get, list_, write

CHANNEL_FLAGS = (
    Flag(field="kind", help="dingtalk, wecom, feishu, slack, webhook, email, sms, voice ..."),
    Flag(field="url", help="the webhook URL"),
    Flag(field="secret"),
    Flag(field="mentions", type="list"),
    Flag(field="recipients", type="list"),
    Flag(field="template"),
    Flag(field="format"),
    Flag(field="email_to", type="list"),
    Flag(field="escalate_to", help="the next channel when nobody acknowledges"),
    Flag(field="escalate_after_minutes", type="int"),
)

CHANNEL = Resource(
    name="channel",
    help="notification channels (chat, email, SMS, voice, webhook)",
    columns=("name", "kind", "url"),
    verbs=(
        *crud("/api/v1/channels", "channel", "channel", group="channel", flags=CHANNEL_FLAGS),
        write(
            "preview",
            "POST",
            "/api/v1/channels:preview",
            "render a channel's message for sample (or given) alerts without sending it",
            flags=(Flag(field="channel", type="yaml", help="a channel spec"), Flag(field="template")),
            body=True,
            example="berth channel preview --set name=ops-chat",
        ),
    ),
)

ROUTE_FLAGS = (
    Flag(field="channels", type="list", help="channel names"),
    Flag(field="matchers", type="yaml", help="e.g. '[{name: severity, value: critical}]'"),
    Flag(field="order", type="int"),
    Flag(field="continue", type="bool", help="keep matching later routes"),
    Flag(field="escalation", type="yaml"),
)

ROUTE = Resource(
    name="route",
    aliases=("alert-route",),
    help="alert routes: which alerts go to which channels",
    columns=("name", "order", "channels", "matchers"),
    verbs=crud("/api/v1/alert-routes", "route", "alert route", group="route", flags=ROUTE_FLAGS),
)

RULEPACK = Resource(
    name="rulepack",
    aliases=("rule-pack",),
    help="Berth's alerting rules for a cluster, as Prometheus loads them",
    verbs=(get("/api/v1/rule-packs/{cluster}", "a cluster's rule pack", example="berth rulepack get demo -o yaml"),),
)

SILENCE = Resource(
    name="silence",
    help="silences: mute matching alerts for a while",
    columns=("id", "matchers", "starts_at", "ends_at", "comment", "created_by"),
    verbs=(
        list_("/api/v1/silences", "silences", example="berth silence list"),
        get("/api/v1/silences/{silence}", "a silence", example="berth silence get SILENCE_ID"),
        create(
            "/api/v1/silences",
            "a silence",
            name_field="",
            flags=(
                Flag(field="matchers", type="yaml", help="e.g. '[{name: alertname, value: NodeDown}]'"),
                Flag(field="duration_minutes", type="int"),
                Flag(field="comment"),
                Flag(field="ends_at", help="ISO time"),
            ),
            example="berth silence create --matchers '[{name: alertname, value: NodeDown}]' "
            "--duration-minutes 60 --comment maintenance",
        ),
        action(
            "expire",
            "/api/v1/silences/{silence}:expire",
            "expire a silence now",
            flags=(Flag(field="comment"),),
            example="berth silence expire SILENCE_ID",
        ),
    ),
)

ALERT = Resource(
    name="alert",
    help="alerts (firing and resolved)",
    columns=("fingerprint", "status", "labels.alertname", "labels.severity", "starts_at"),
    verbs=(
        list_(
            "/api/v1/alerts",
            "alerts",
            flags=(Flag(field="status", help="firing, resolved, acknowledged"),),
            example="berth alert list --status firing",
        ),
        get("/api/v1/alerts/{alert}", "an alert", example="berth alert get FINGERPRINT -o yaml"),
        action(
            "ack",
            "/api/v1/alerts/{alert}:ack",
            "acknowledge an alert (stops its escalation)",
            flags=(Flag(field="comment"),),
            example="berth alert ack FINGERPRINT --comment 'on it'",
        ),
    ),
)

SCALING_FLAGS = (
    Flag(field="target", type="yaml", help="e.g. '{cluster: demo, pool: workers}'"),
    Flag(field="trigger", type="yaml", help="the alert that scales, e.g. '{alertname: HighCPU}'"),
    Flag(field="min", type="int"),
    Flag(field="max", type="int"),
    Flag(field="step", type="int"),
    Flag(field="cooldown_seconds", type="int"),
    Flag(field="enabled", type="bool"),
)

SCALING = Resource(
    name="scaling-policy",
    help="scaling policies: alerts that scale a node pool or workload",
    columns=("name", "target", "min", "max", "step", "enabled"),
    verbs=crud("/api/v1/scaling-policies", "policy", "scaling policy", group="scaling-policy", flags=SCALING_FLAGS),
)

NOTIFICATION = Resource(
    name="notification",
    help="notifications sent and pending, and those that could not be delivered",
    columns=("id", "channel", "status", "attempts", "alert", "created_at"),
    verbs=(
        list_("/api/v1/notifications", "notifications", example="berth notification list"),
        list_(
            "/api/v1/dead-letters",
            "notifications that could not be delivered",
            name="dead-letters",
            example="berth notification dead-letters -o yaml",
        ),
    ),
)

RESOURCES = (CHANNEL, ROUTE, RULEPACK, SILENCE, ALERT, SCALING, NOTIFICATION)
