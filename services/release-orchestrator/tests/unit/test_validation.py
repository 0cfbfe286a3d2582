"""Bad input gets an error naming each bad field by its full path."""

from __future__ import annotations

import pytest
from berth_release_orchestrator.domain.errors import Invalid
from berth_release_orchestrator.domain.strategy import parse_strategy
from berth_release_orchestrator.domain.templates import parse_template
from berth_release_orchestrator.domain.workload import best_practice_warnings, build_workload, check
from berth_schema.release.analysis import Condition
from berth_schema.release.strategy import Canary


def fields(exc: pytest.ExceptionInfo[Invalid]) -> list[str]:
    return [f for f, _ in exc.value.errors]


def test_canary_steps_are_checked_one_by_one() -> None:
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "canary", "steps": [{"set_weight": 10}, {"set_weight": 150}]})
    assert fields(e) == ["strategy.steps[1].set_weight"]
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "canary", "steps": [{"pause": {"duration_seconds": -1}}]})
    assert fields(e) == ["strategy.steps[0].pause.duration_seconds"]
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "canary", "steps": [{"jump": 1}]})
    assert fields(e) == ["strategy.steps[0].jump"]
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "canary", "steps": [{"set_weight": 1, "pause": {}}]})
    assert "exactly one" in str(e.value)
    with pytest.raises(Invalid) as e:
        bad = {"analysis": {"query": "up", "success_condition": "result ~ 3"}}
        parse_strategy({"kind": "canary", "steps": [{"set_weight": 5}, bad]})
    assert fields(e) == ["strategy.steps[1].analysis.success_condition"]
    assert "result <op> number" in str(e.value)


def test_strategy_kinds_and_cross_field_rules() -> None:
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "big-bang"})
    assert fields(e) == ["strategy.kind"]
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "rolling", "max_surge": 0, "max_unavailable": "0%"})
    assert fields(e) == ["strategy.max_unavailable"]
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "rolling", "max_surge": "lots"})
    assert fields(e) == ["strategy.max_surge"]
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "canary", "traffic": "cookie", "header_value": "x"})
    assert fields(e) == ["strategy.header_value"]
    with pytest.raises(Invalid) as e:
        parse_strategy({"kind": "blue-green", "auto_promote": True, "auto_promote_seconds": 5, "colour": "x"})
    assert fields(e) == ["strategy.colour"]
    c = parse_strategy({"kind": "canary", "steps": [{"setWeight": 10}, {"pause": None}]})
    assert isinstance(c, Canary) and len(c.steps) == 2
    assert isinstance(parse_strategy({"kind": "canary"}), Canary)  # default steps


def test_workload_fields_and_best_practices() -> None:
    with pytest.raises(Invalid) as e:
        build_workload({"replicas": 2}, {"image": "Not An Image", "ports": [{"container_port": 70000}]})
    assert sorted(fields(e)) == ["workload.image", "workload.ports[0].container_port"]
    with pytest.raises(Invalid) as e:
        build_workload(None, {"image": "nginx:1.27", "resources": {"cpu_limit": "lots"}, "env": {"1X": "v"}})
    assert sorted(fields(e)) == ["workload.env", "workload.resources.cpu_limit"]
    latest = build_workload(None, {"image": "nginx:latest", "replicas": 1, "readiness_probe": None})
    with pytest.raises(Invalid) as e:
        check(latest, environment="prod")
    assert fields(e) == ["workload.image"]
    check(latest, environment="dev")
    check(build_workload(None, {"image": "registry.local:5000/team/web@sha256:" + "a" * 64}), environment="prod")
    warnings = best_practice_warnings(latest)
    assert any(w.startswith("replicas") for w in warnings) and any(w.startswith("readiness_probe") for w in warnings)


def test_templates() -> None:
    tpl = parse_template({"name": "web", "workload": {"replicas": 3, "ports": [{"container_port": 80}]}}, tenant="t1")
    assert tpl.kind == "workload" and tpl.visibility == "private"
    with pytest.raises(Invalid) as e:
        parse_template({"name": "web", "kind": "chart"}, tenant="t1")
    assert fields(e) == ["template.chart"]
    with pytest.raises(Invalid) as e:
        parse_template({"name": "Web!", "workload": {"replicas": -1}}, tenant="t1")
    assert fields(e) == ["template.name"]
    with pytest.raises(Invalid) as e:
        parse_template({"name": "web", "workload": {"replicas": -1}}, tenant="t1")
    assert fields(e) == ["template.workload.replicas"]


def test_success_conditions() -> None:
    c = Condition("result < 0.05")
    assert c.holds(0.01) and not c.holds(0.05)
    c = Condition("result >= 0.9 and result <= 1 or result == 42")
    assert c.holds(0.95) and c.holds(42) and not c.holds(1.5)
    with pytest.raises(ValueError):
        Condition("__import__('os')")
