"""Escalation: an alert still firing and unacknowledged is sent further.

Two ways, both once per step and both stopped by an acknowledgement or a resolve:
- a channel's ``escalate_to`` after its ``escalate_after_minutes``, followed again from the
  channel escalated to (so chat -> SMS -> call can be three channels pointing onward);
- a route's ``escalation`` chain: step 0 ``after_minutes`` after the route's channels were first
  notified (or after the occurrence was first seen, when none could be), each next step
  ``after_minutes`` after the previous one was taken.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from berth_schema.alert.channels import Channel
from berth_schema.alert.routing import Route

from .routing import matching


def _open(alert: Mapping[str, Any]) -> bool:
    return alert.get("status") == "firing" and not alert.get("acked_at")


def due_escalations(alert: Mapping[str, Any], channels: Mapping[str, Channel], now: datetime) -> list[str]:
    """Channel names to escalate to now. ``alert`` is the stored alert state: ``status``,
    ``acked_at``, ``notified`` ({channel: iso time}) and ``escalated`` ({channel: iso time})."""
    if not _open(alert):
        return []
    notified: dict[str, str] = alert.get("notified", {})
    escalated: dict[str, str] = alert.get("escalated", {})
    due: list[str] = []
    for name, at in [*notified.items(), *escalated.items()]:
        ch = channels.get(name)
        if ch is None or ch.escalate_to is None or ch.escalate_after_minutes is None:
            continue
        if ch.escalate_to in escalated or ch.escalate_to in notified or ch.escalate_to in due:
            continue
        if now >= datetime.fromisoformat(at) + timedelta(minutes=ch.escalate_after_minutes):
            due.append(ch.escalate_to)
    return due


@dataclass(frozen=True, slots=True)
class DueStep:
    key: str  # "<route>#<index>", recorded in the alert's escalation_steps
    route: str
    index: int
    channels: tuple[str, ...]


def step_key(route: str, index: int) -> str:
    return f"{route}#{index}"


def _started(alert: Mapping[str, Any], r: Route) -> datetime | None:
    notified: dict[str, str] = alert.get("notified", {})
    times = [datetime.fromisoformat(notified[c]) for c in r.channels if c in notified]
    if times:
        return min(times)
    seen = alert.get("occurrence_seen")
    return datetime.fromisoformat(seen) if seen else None


def due_route_steps(alert: Mapping[str, Any], routes: Iterable[Route], now: datetime) -> list[DueStep]:
    """The next step of each matching route's chain that is due now (at most one per route)."""
    if not _open(alert):
        return []
    taken: dict[str, str] = alert.get("escalation_steps", {})
    due: list[DueStep] = []
    for r in matching(routes, alert.get("labels", {})):
        for i, step in enumerate(r.escalation):
            key = step_key(r.name, i)
            if key in taken:
                continue
            base = _started(alert, r) if i == 0 else datetime.fromisoformat(taken[step_key(r.name, i - 1)])
            if base is not None and now >= base + timedelta(minutes=step.after_minutes):
                due.append(DueStep(key, r.name, i, tuple(step.channels)))
            break  # later steps wait for this one
    return due
