# ruff: noqa: E501  (message templates read better unwrapped)
"""Message templates: Jinja2 in a sandbox (templates are user input), defaults per channel kind."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from berth_schema.alert.channels import PHONE_KINDS, TEMPLATE_KINDS, Channel
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from .payload import Alert

DEFAULT_TITLE = "[{{ status | upper }}{% if firing %}:{{ firing | length }}{% endif %}] {{ group_labels.alertname | default(common_labels.alertname | default(alerts[0].labels.alertname | default('alerts'))) }}"

DEFAULT_MARKDOWN = """\
### {{ title }}
{% for a in alerts %}
**{{ a.status | upper }}** {{ a.labels.alertname | default('?') }} ({{ a.labels.severity | default('none') }})
- cluster: {{ a.labels.cluster | default('-') }} namespace: {{ a.labels.namespace | default('-') }}
- summary: {{ a.annotations.summary | default(a.annotations.description | default('')) }}
- started: {{ a.starts_at | localtime }}{% if a.status == 'resolved' and a.ends_at %} resolved: {{ a.ends_at | localtime }}{% endif %}
{% endfor %}
{%- if external_url %}[Alertmanager]({{ external_url }}){% endif %}"""

DEFAULT_TEXT = """\
{{ title }}
{% for a in alerts %}
[{{ a.status | upper }}] {{ a.labels.alertname | default('?') }} severity={{ a.labels.severity | default('none') }} cluster={{ a.labels.cluster | default('-') }} namespace={{ a.labels.namespace | default('-') }}
  {{ a.annotations.summary | default(a.annotations.description | default('')) }}
  started {{ a.starts_at | localtime }}{% if a.status == 'resolved' and a.ends_at %}, resolved {{ a.ends_at | localtime }}{% endif %}
{% endfor %}"""

DEFAULT_SLACK = """\
*{{ title }}*
{% for a in alerts %}
*{{ a.status | upper }}* `{{ a.labels.alertname | default('?') }}` ({{ a.labels.severity | default('none') }}) cluster={{ a.labels.cluster | default('-') }}
> {{ a.annotations.summary | default(a.annotations.description | default('')) }} (since {{ a.starts_at | localtime }})
{% endfor %}"""


DEFAULT_SHORT = """\
{{ title }}{% for a in alerts[:3] %}; {{ a.labels.alertname | default('?') }}@{{ a.labels.cluster | default('-') }}: {{ a.annotations.summary | default(a.annotations.description | default('')) }}{% endfor %}"""

# Parameters for provider-side SMS / voice templates when a channel names none (Tencent takes
# them in this order). A provider template must declare the variables its channel fills.
DEFAULT_PARAMS: dict[str, str] = {
    "alertname": "{{ alerts[0].labels.alertname | default('alert') }}",
    "severity": "{{ alerts[0].labels.severity | default('none') }}",
    "cluster": "{{ alerts[0].labels.cluster | default('-') }}",
    "status": "{{ status }}",
    "count": "{{ alerts | length }}",
}


def default_template(channel: Channel) -> str:
    if channel.kind in PHONE_KINDS:
        return DEFAULT_SHORT
    if channel.kind == "slack":
        return DEFAULT_SLACK
    if channel.kind in ("email", "webhook") or channel.format == "text":
        return DEFAULT_TEXT
    return DEFAULT_MARKDOWN


class TemplateInvalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    text: str
    params: dict[str, str] | None = None  # provider-template parameters (SMS / voice)


@lru_cache(maxsize=64)
def _env_for(zone_name: str) -> SandboxedEnvironment:
    return _env(ZoneInfo(zone_name))


@lru_cache(maxsize=512)
def _compiled(zone_name: str, source: str) -> Template:
    # Compiling is by far the costliest step of rendering; sources are few and reused.
    return _env_for(zone_name).from_string(source)


def _env(zone: ZoneInfo) -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)

    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
        return "" if value is None else value.astimezone(zone).strftime(fmt)

    env.filters["localtime"] = localtime
    return env


def check_template(source: str, *, field: str = "template") -> None:
    """Compile a template; TemplateInvalid says what is wrong."""
    try:
        _env(ZoneInfo("UTC")).from_string(source)
    except TemplateError as exc:
        raise TemplateInvalid(field, f"template does not compile: {exc}") from None


def _alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": alert.startsAt,
        "ends_at": alert.endsAt,
        "fingerprint": alert.fingerprint,
        "generator_url": alert.generatorURL,
    }


def render(
    channel: Channel,
    alerts: Sequence[Alert],
    *,
    group_labels: dict[str, str] | None = None,
    common_labels: dict[str, str] | None = None,
    common_annotations: dict[str, str] | None = None,
    external_url: str = "",
) -> Rendered:
    """Render a channel's message for these alerts, in the channel's time zone."""
    views = [_alert_view(a) for a in alerts]
    firing = [v for v in views if v["status"] == "firing"]
    ctx: dict[str, Any] = {
        "alerts": views,
        "firing": firing,
        "resolved": [v for v in views if v["status"] == "resolved"],
        "status": "firing" if firing else "resolved",
        "group_labels": group_labels or {},
        "common_labels": common_labels or {},
        "common_annotations": common_annotations or {},
        "external_url": external_url,
        "channel": {"name": channel.name, "kind": channel.kind, "timezone": channel.timezone},
    }
    try:
        title = _compiled(channel.timezone, channel.title_template or DEFAULT_TITLE).render(ctx).strip()
        ctx["title"] = title
        text = _compiled(channel.timezone, channel.template or default_template(channel)).render(ctx).strip()
    except TemplateError as exc:
        raise TemplateInvalid("template", f"rendering failed: {exc}") from None
    params: dict[str, str] | None = None
    if channel.kind in TEMPLATE_KINDS:
        params = {}
        for name, source in (channel.template_params or DEFAULT_PARAMS).items():
            try:
                params[name] = _compiled(channel.timezone, source).render(ctx).strip()
            except TemplateError as exc:
                raise TemplateInvalid(f"template_params.{name}", f"rendering failed: {exc}") from None
    return Rendered(title=title, text=text, params=params)


def sample_alerts(now: datetime) -> list[Alert]:
    """Alerts for the preview endpoint when the caller gives none."""
    return [
        Alert(
            status="firing",
            labels={"alertname": "KubeNodeNotReady", "severity": "critical", "cluster": "demo", "node": "node-1"},
            annotations={"summary": "Node node-1 has been NotReady for more than 5 minutes."},
            startsAt=now,
            fingerprint="0123456789abcdef",
        )
    ]
