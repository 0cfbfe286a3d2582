"""Alertmanager's webhook payload (version 4). The models live in the schema
(``berth_schema.hooks.alertmanager``, which the gateway validates /hooks/alertmanager against);
monitor-alert reads them under its own names and adds the dedupe key."""

from __future__ import annotations

from typing import Any

from berth_schema.hooks import AlertmanagerAlert as Alert
from berth_schema.hooks import AlertmanagerPayload as WebhookPayload
from berth_schema.hooks import HookPayloadInvalid as PayloadInvalid
from berth_schema.hooks import parse_alertmanager

__all__ = ["Alert", "PayloadInvalid", "WebhookPayload", "dedupe_key", "parse_payload"]


def parse_payload(raw: Any) -> WebhookPayload:
    """Validate a decoded JSON body; PayloadInvalid names the first bad field."""
    return parse_alertmanager(raw)


def dedupe_key(group_key: str, alert: Alert) -> str:
    """One notification per (group, alert, status): the second Alertmanager of an HA pair
    sends the same group key and fingerprint, so its copy collapses onto the first."""
    return f"{group_key}|{alert.fingerprint}|{alert.status}"
