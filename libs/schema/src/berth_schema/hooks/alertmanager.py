"""Alertmanager's webhook payload, version 4 (the body of a ``webhook_config`` POST), as
Alertmanager documents it: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
Field names are Alertmanager's own (camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import HookPayloadInvalid, first_error

Status = Literal["firing", "resolved"]


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Status
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = Field(min_length=1, max_length=128)

    @field_validator("endsAt", mode="before")
    @classmethod
    def _zero_time(cls, v: Any) -> Any:
        # Alertmanager sends Go's zero time for alerts that have no end yet.
        if isinstance(v, str) and v.startswith("0001-01-01"):
            return None
        return v

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")


class AlertmanagerPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str = Field(min_length=1)
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Status
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertmanagerAlert] = Field(min_length=1)


def parse_alertmanager(raw: Any) -> AlertmanagerPayload:
    """Validate a decoded JSON body; HookPayloadInvalid names the first bad field
    (``alerts.0.fingerprint``)."""
    if not isinstance(raw, dict):
        raise HookPayloadInvalid("body", "expected a JSON object")
    try:
        return AlertmanagerPayload.model_validate(raw)
    except ValidationError as exc:
        raise first_error(exc) from None
