"""Facts monitor-alert publishes (``berth.evt.alert.*``) and commands it accepts
(``berth.cmd.monitor-alert.*``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from berth_common.events import command, event
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from .channels import Channel
from .matchers import Matcher
from .routing import Route
from .scaling import ScalingPolicy

TENANT = Field(min_length=1, max_length=63)


# --- commands -------------------------------------------------------------------------
@command("berth.cmd.monitor-alert.ingest-webhook.v1", service="monitor-alert", verb="ingest-webhook")
class IngestWebhook(BaseModel):
    """An Alertmanager webhook body (version 4) as received by the gateway, unchanged."""

    tenant: str = TENANT
    payload: dict[str, Any]
    received_at: datetime


@command("berth.cmd.monitor-alert.ack.v1", service="monitor-alert", verb="ack")
class AckAlert(BaseModel):
    """Acknowledge an alert (from chat or the console): stops its escalation."""

    tenant: str = TENANT
    fingerprint: str = Field(min_length=1, max_length=128)
    by: str = Field(min_length=1, max_length=128)
    comment: str = Field(default="", max_length=1024)


@command("berth.cmd.monitor-alert.ingest-call-status.v1", service="monitor-alert", verb="ingest-call-status")
class IngestCallStatus(BaseModel):
    """A voice provider's callback about a call Berth placed, as the gateway received it
    (``POST /hooks/twilio/call?tenant=..&channel=..&notification=..``, form-encoded). The gateway
    cannot check it (the Auth Token is sealed in monitor-alert): monitor-alert verifies
    ``signature`` (``X-Twilio-Signature``) over the channel's ``callback_url`` + ``?`` + ``query``
    and ``params``, then a ``Digits`` equal to the channel's ``ack_digit`` acknowledges every
    alert of the notification."""

    tenant: str = TENANT
    query: str = Field(max_length=4096, description="the callback URL's query string, exactly as received")
    params: dict[str, str] = Field(max_length=256, description="the form-encoded POST body")
    signature: str = Field(default="", max_length=256, description="the X-Twilio-Signature header")
    received_at: datetime


@command("berth.cmd.monitor-alert.silence.v1", service="monitor-alert", verb="silence")
class SilenceAlerts(BaseModel):
    """Create (or, with ``expire``, end) a silence. Matchers are ``name=value`` / ``!=`` / ``=~`` / ``!~``."""

    tenant: str = TENANT
    id: str | None = Field(default=None, min_length=1, max_length=64)
    expire: bool = False
    matchers: list[str] = Field(default_factory=list, max_length=32, validate_default=True)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=525_600)
    created_by: str = Field(min_length=1, max_length=128)
    comment: str = Field(default="", max_length=1024)

    @field_validator("matchers")
    @classmethod
    def _matchers_parse(cls, v: list[str], info: ValidationInfo) -> list[str]:
        if not v and not info.data.get("expire"):
            raise ValueError('a silence needs at least one matcher, e.g. alertname="HighLatency"')
        for text in v:
            Matcher.parse(text)  # ValueError names the matcher and what is expected
        return v


@command("berth.cmd.monitor-alert.put-channel.v1", service="monitor-alert", verb="put-channel")
class PutChannel(BaseModel):
    """Create or replace a notification channel (its ``tenant`` is the command's)."""

    tenant: str = TENANT
    channel: Channel


@command("berth.cmd.monitor-alert.delete-channel.v1", service="monitor-alert", verb="delete-channel")
class DeleteChannel(BaseModel):
    tenant: str = TENANT
    name: str = Field(min_length=1, max_length=63)


@command("berth.cmd.monitor-alert.put-route.v1", service="monitor-alert", verb="put-route")
class PutRoute(BaseModel):
    """Create or replace an alert route (its ``tenant`` is the command's)."""

    tenant: str = TENANT
    route: Route


@command("berth.cmd.monitor-alert.delete-route.v1", service="monitor-alert", verb="delete-route")
class DeleteRoute(BaseModel):
    tenant: str = TENANT
    name: str = Field(min_length=1, max_length=63)


@command("berth.cmd.monitor-alert.put-scaling-policy.v1", service="monitor-alert", verb="put-scaling-policy")
class PutScalingPolicy(BaseModel):
    """Create or replace a scaling policy (its ``tenant`` is the command's)."""

    tenant: str = TENANT
    policy: ScalingPolicy


@command("berth.cmd.monitor-alert.delete-scaling-policy.v1", service="monitor-alert", verb="delete-scaling-policy")
class DeleteScalingPolicy(BaseModel):
    tenant: str = TENANT
    name: str = Field(min_length=1, max_length=63)


# --- facts ----------------------------------------------------------------------------
class AlertFact(BaseModel):
    fingerprint: str
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime
    ends_at: datetime | None = None
    group_key: str


@event("berth.alert.firing.v1", domain="alert", name="firing")
class AlertFiring(AlertFact):
    """An alert started firing (first time Berth sees this occurrence)."""


@event("berth.alert.resolved.v1", domain="alert", name="resolved")
class AlertResolved(AlertFact):
    """A firing alert resolved."""


@event("berth.alert.notified.v1", domain="alert", name="notified")
class AlertNotified(BaseModel):
    notification: str
    channel: str
    kind: str
    fingerprints: list[str]
    parts: int
    attempts: int
    escalation: bool = False


@event("berth.alert.notify-failed.v1", domain="alert", name="notify-failed")
class AlertNotifyFailed(BaseModel):
    """A notification gave up after its last attempt; a dead-letter record keeps it."""

    notification: str
    channel: str
    kind: str
    fingerprints: list[str]
    attempts: int
    error: str


@event("berth.alert.silenced.v1", domain="alert", name="silenced")
class AlertSilenced(BaseModel):
    """A silence was created or expired, or it suppressed an alert (``action``)."""

    silence_id: str
    action: Literal["created", "expired", "suppressed"]
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    fingerprint: str | None = None


@event("berth.alert.acknowledged.v1", domain="alert", name="acknowledged")
class AlertAcknowledged(BaseModel):
    fingerprint: str
    alertname: str
    by: str
    comment: str = ""


@event("berth.alert.scale-decided.v1", domain="alert", name="scale-decided")
class ScaleDecided(BaseModel):
    """A scaling policy decided to change replicas (or a pool size); ``reason`` says why."""

    policy: str
    target_kind: Literal["workload", "node-pool"]
    target: dict[str, str]
    current: int | None
    desired: int
    reason: str
    trigger: Literal["alert", "metric"]
