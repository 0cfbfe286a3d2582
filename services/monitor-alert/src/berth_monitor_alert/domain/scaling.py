"""Scaling decisions: when a policy (``berth_schema.alert.scaling``) moves a target, and to what size."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from berth_schema.alert.matchers import all_match
from berth_schema.alert.scaling import AlertTrigger, MetricTrigger, ScalingPolicy


@dataclass(frozen=True, slots=True)
class Decision:
    desired: int
    reason: str


def decide(
    policy: ScalingPolicy,
    *,
    direction: Literal["up", "down"],
    current: int,
    last_scaled_at: datetime | None,
    now: datetime,
    why: str,
) -> Decision | None:
    """The new size, or None when cooling down, disabled or already at the bound."""
    if not policy.enabled:
        return None
    if last_scaled_at is not None and now < last_scaled_at + timedelta(seconds=policy.cooldown_seconds):
        return None
    if direction == "up":
        desired = min(policy.max, max(policy.min, current + policy.step))
    else:
        desired = max(policy.min, min(policy.max, current - policy.step))
    if desired == current:
        return None
    bound = ""
    if desired in (policy.min, policy.max):
        bound = f" (bounded to [{policy.min}, {policy.max}])"
    return Decision(desired, f"{why}: {current} -> {desired}{bound}")


def alert_direction(policy: ScalingPolicy, status: str, labels: Mapping[str, str]) -> Literal["up", "down"] | None:
    trig = policy.trigger
    if not isinstance(trig, AlertTrigger) or not all_match(trig.matchers, labels):
        return None
    if status == "firing":
        return "up"
    return "down" if trig.on_resolved == "down" else None


def metric_direction(policy: ScalingPolicy, value: float) -> Literal["up", "down"] | None:
    trig = policy.trigger
    if not isinstance(trig, MetricTrigger):
        return None
    if trig.scale_up_above is not None and value > trig.scale_up_above:
        return "up"
    if trig.scale_down_below is not None and value < trig.scale_down_below:
        return "down"
    return None
