from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from berth_monitor_alert.domain.rulepacks import PACK, render_rules
from berth_monitor_alert.domain.scaling import alert_direction, decide, metric_direction
from berth_schema.alert.scaling import ScalingPolicy

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def policy(**over: object) -> ScalingPolicy:
    data: dict[str, object] = {
        "name": "web",
        "target": {"kind": "workload", "cluster": "c1", "namespace": "shop", "name": "web"},
        "trigger": {"type": "metric", "query": "x", "scale_up_above": 0.8, "scale_down_below": 0.2},
        "min": 2,
        "max": 5,
        "step": 2,
        "cooldown_seconds": 60,
    }
    data.update(over)
    return ScalingPolicy.model_validate(data)


def test_decide_bounds_and_cooldown() -> None:
    p = policy()
    d = decide(p, direction="up", current=4, last_scaled_at=None, now=T0, why="cpu 0.9 > 0.8")
    assert d is not None and d.desired == 5 and "bounded" in d.reason and "cpu 0.9" in d.reason
    assert decide(p, direction="up", current=5, last_scaled_at=None, now=T0, why="w") is None
    assert decide(p, direction="up", current=2, last_scaled_at=T0, now=T0 + timedelta(seconds=59), why="w") is None
    assert decide(p, direction="up", current=2, last_scaled_at=T0, now=T0 + timedelta(seconds=60), why="w") is not None
    d = decide(p, direction="down", current=3, last_scaled_at=None, now=T0, why="w")
    assert d is not None and d.desired == 2


def test_directions() -> None:
    p = policy()
    assert metric_direction(p, 0.9) == "up" and metric_direction(p, 0.1) == "down" and metric_direction(p, 0.5) is None
    a = policy(trigger={"type": "alert", "matchers": ["alertname=HighLoad"], "on_resolved": "down"})
    assert alert_direction(a, "firing", {"alertname": "HighLoad"}) == "up"
    assert alert_direction(a, "resolved", {"alertname": "HighLoad"}) == "down"
    assert alert_direction(a, "firing", {"alertname": "Other"}) is None


def test_policy_validation() -> None:
    with pytest.raises(ValueError, match="must not exceed max"):
        policy(min=6)
    with pytest.raises(ValueError, match="scale_down_below must be lower"):
        policy(trigger={"type": "metric", "query": "x", "scale_up_above": 0.1, "scale_down_below": 0.2})


def test_rule_pack_is_scoped_to_the_cluster() -> None:
    doc = yaml.safe_load(render_rules("prod-1"))
    rules = doc["groups"][0]["rules"]
    assert len(rules) == len(PACK)
    assert all('cluster="prod-1"' in r["expr"] and r["labels"]["cluster"] == "prod-1" for r in rules)
    names = {r["alert"] for r in rules}
    assert {"KubeNodeNotReady", "KubePodCrashLooping", "EtcdNoLeader", "RegistrySyncFailing", "DRProbeFailing"} <= names
    with pytest.raises(ValueError, match="DNS label"):
        render_rules("Bad_Name")
