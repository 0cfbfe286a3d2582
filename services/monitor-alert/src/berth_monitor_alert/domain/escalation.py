"""Escalation: an alert still firing and not acknowledged N minutes after a channel was told
is sent to that channel's ``escalate_to`` channel (once per step)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from berth_schema.alert.channels import Channel


def due_escalations(alert: Mapping[str, Any], channels: Mapping[str, Channel], now: datetime) -> list[str]:
    """Channel names to escalate to now. ``alert`` is the stored alert state: ``status``,
    ``acked_at``, ``notified`` ({channel: iso time}) and ``escalated`` ({channel: iso time})."""
    if alert.get("status") != "firing" or alert.get("acked_at"):
        return []
    notified: dict[str, str] = alert.get("notified", {})
    escalated: dict[str, str] = alert.get("escalated", {})
    due: list[str] = []
    for name, at in notified.items():
        ch = channels.get(name)
        if ch is None or ch.escalate_to is None or ch.escalate_after_minutes is None:
            continue
        if ch.escalate_to in escalated or ch.escalate_to in notified or ch.escalate_to in due:
            continue
        if now >= datetime.fromisoformat(at) + timedelta(minutes=ch.escalate_after_minutes):
            due.append(ch.escalate_to)
    return due
