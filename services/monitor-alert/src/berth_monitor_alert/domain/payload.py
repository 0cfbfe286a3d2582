"""Alertmanager's webhook payload, version 4 (the body of a ``webhook_config`` POST)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Status = Literal["firing", "resolved"]


class PayloadInvalid(ValueError):
    """The webhook body is not a version-4 Alertmanager payload; ``field`` names the bad field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Alert(BaseModel):
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


class WebhookPayload(BaseModel):
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
    alerts: list[Alert] = Field(min_length=1)


def parse_payload(raw: Any) -> WebhookPayload:
    """Validate a decoded JSON body; PayloadInvalid names the first bad field."""
    if not isinstance(raw, dict):
        raise PayloadInvalid("<body>", "expected a JSON object")
    try:
        return WebhookPayload.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "<body>"
        raise PayloadInvalid(loc, err["msg"]) from None


def dedupe_key(group_key: str, alert: Alert) -> str:
    """One notification per (group, alert, status): the second Alertmanager of an HA pair
    sends the same group key and fingerprint, so its copy collapses onto the first."""
    return f"{group_key}|{alert.fingerprint}|{alert.status}"
