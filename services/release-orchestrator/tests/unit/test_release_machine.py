"""The release state machine: steps, weights, pauses, analysis, promotion and rollback."""

from __future__ import annotations

from typing import Any

import pytest
from berth_release_orchestrator.domain import manifests as mf
from berth_release_orchestrator.domain.analysis import judge
from berth_release_orchestrator.domain.errors import Invalid
from berth_release_orchestrator.domain.release import (
    Release,
    Seen,
    advance,
    begin_rollback,
    desired,
    promote,
    revision_to_restore,
)
from berth_schema.release import AnalysisFailed, ReleaseRolledBack, WeightChanged

from .factories import at, names, promoted_first, revision, tick

ANALYSIS = {"query": "sum(rate(errors[1m]))", "success_condition": "result < 0.05", "interval_seconds": 5, "count": 2}
CANARY = {
    "kind": "canary",
    "steps": [
        {"set_weight": 10},
        {"pause": {"duration_seconds": 30}},
        {"analysis": ANALYSIS},
        {"set_weight": 50},
        {"pause": {}},
    ],
}


def canary_ingress(rel: Release) -> dict[str, Any] | None:
    for o in desired(rel, at(0)).apply:
        if o["kind"] == "Ingress" and o["metadata"]["name"] == "web-canary":
            return o
    return None


def test_first_canary_revision_rolls_out_directly() -> None:
    rel, facts = revision(None, image="registry.local/web:1.0", strategy=CANARY)
    assert [s.kind for s in rel.steps] == ["rollout"]
    assert names(facts) == ["requested", "step-started"]
    d = desired(rel, at(0))
    assert d.available == ["web"] and {o["kind"] for o in d.apply} == {"Deployment", "Service", "Ingress"}
    assert names(advance(rel, at(1), Seen(available=False, not_available=["web"]))) == []
    assert names(advance(rel, at(2), Seen())) == ["promoted"]
    assert str(rel.phase) == "promoted" and rel.history[-1].phase == "promoted"


def test_canary_by_weight_walks_its_steps_then_promotes() -> None:
    stable = promoted_first(CANARY)
    rel, facts = revision(stable, image="registry.local/web:2.0", strategy=CANARY, now=at(100))
    assert rel.revision == 2 and rel.stable is not None and rel.stable.image.endswith(":1.0")
    assert [s.kind for s in rel.steps] == [
        "canary-deploy", "set-weight", "pause", "analysis", "set-weight", "pause", "promote", "remove-canary",
    ]  # fmt: skip
    ing = canary_ingress(rel)
    assert ing is not None and ing["metadata"]["annotations"][mf.NGINX + "canary"] == "true"
    assert ing["metadata"]["annotations"][mf.NGINX + "canary-weight"] == "0"
    assert names(tick(rel, at(101))) == ["step-started"]  # canary-deploy done (no weight change from 0)
    d = desired(rel, at(101))
    dep = next(o for o in d.apply if o["kind"] == "Deployment")
    assert dep["metadata"]["name"] == "web-canary" and dep["spec"]["replicas"] == 1  # ceil(4 * 10%)
    ing = canary_ingress(rel)
    assert ing is not None and ing["metadata"]["annotations"][mf.NGINX + "canary-weight"] == "10"
    facts = tick(rel, at(102))
    assert names(facts) == ["weight-changed", "step-started"]
    wc = facts[0]
    assert isinstance(wc, WeightChanged) and (wc.from_weight, wc.to_weight) == (0, 10) and rel.weight == 10
    assert tick(rel, at(120)) == []  # paused for 30 s from 102
    assert names(tick(rel, at(132))) == ["step-started"]  # analysis
    spec = rel.steps[3].analysis
    assert spec is not None
    assert desired(rel, at(132)).measure is not None
    assert tick(rel, at(132), Seen(measurement=judge(spec, 0.01, at=at(132)))) == []
    assert desired(rel, at(134)).measure is None  # interval 5 s
    facts = tick(rel, at(137), Seen(measurement=judge(spec, 0.02, at=at(137))))
    assert names(facts) == ["analysis-passed", "step-started"]
    assert desired(rel, at(137)).apply[0]["spec"]["replicas"] == 2  # 50% of 4
    assert names(tick(rel, at(138))) == ["weight-changed", "step-started"]
    assert tick(rel, at(139)) == [] and str(rel.phase) == "paused"
    assert names(promote(rel, full=False, now=at(140))) == ["step-started"]
    assert rel.current is not None and rel.current.kind == "promote"
    d = desired(rel, at(140))
    stable_dep = next(o for o in d.apply if o["kind"] == "Deployment")
    assert stable_dep["metadata"]["name"] == "web"
    assert stable_dep["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/web:2.0"
    assert names(tick(rel, at(141))) == ["step-started"]
    d = desired(rel, at(141))
    assert d.scale == {"web-canary": 0} and ("Ingress", "web-canary") in d.delete
    assert names(tick(rel, at(142))) == ["promoted"]
    assert str(rel.phase) == "promoted" and rel.weight == 0


def test_failing_analysis_rolls_back_to_stable() -> None:
    stable = promoted_first(CANARY)
    rel, _ = revision(stable, image="registry.local/web:2.0", strategy=CANARY, now=at(100))
    for t in (101, 102, 140):
        tick(rel, at(t))
    assert rel.current is not None and rel.current.kind == "analysis"
    spec = rel.current.analysis
    assert spec is not None
    facts = tick(rel, at(141), Seen(measurement=judge(spec, 0.4, at=at(141))))
    assert names(facts) == ["analysis-failed"]
    failed = facts[0]
    assert isinstance(failed, AnalysisFailed) and failed.measurements == [0.4] and "0.4" in failed.reason
    assert str(rel.phase) == "rolling-back"
    d = desired(rel, at(141))
    canary = {o["kind"]: o for o in d.apply if o["metadata"]["name"] == "web-canary"}
    assert canary["Deployment"]["spec"]["replicas"] == 0
    ann = canary["Ingress"]["metadata"]["annotations"]
    assert ann[mf.NGINX + "canary-weight"] == "0"
    assert not any(o["metadata"]["name"] == "web" for o in d.apply)  # stable untouched: never promoted
    facts = tick(rel, at(142))
    assert names(facts) == ["rolled-back"]
    rb = facts[0]
    assert isinstance(rb, ReleaseRolledBack) and rb.reason.startswith("analysis failed") and rb.image.endswith(":1.0")
    assert str(rel.phase) == "rolled-back" and rel.weight == 0
    # the next revision starts from the same stable
    nxt, _ = revision(rel, image="registry.local/web:3.0", strategy=CANARY, now=at(200))
    assert nxt.revision == 3 and nxt.stable is not None and nxt.stable.image.endswith(":1.0")


def test_header_and_cookie_canaries() -> None:
    stable = promoted_first({"kind": "canary"})
    rel, _ = revision(
        stable,
        image="registry.local/web:2.0",
        strategy={"kind": "canary", "traffic": "header", "header": "X-Canary", "header_value": "yes", "steps": []},
    )
    ann = canary_ingress(rel)["metadata"]["annotations"]  # type: ignore[index]
    assert ann[mf.NGINX + "canary-by-header"] == "X-Canary" and ann[mf.NGINX + "canary-by-header-value"] == "yes"
    stable = promoted_first({"kind": "canary"})
    rel, _ = revision(stable, image="registry.local/web:2.0", strategy={"kind": "canary", "traffic": "cookie"})
    ann = canary_ingress(rel)["metadata"]["annotations"]  # type: ignore[index]
    assert ann[mf.NGINX + "canary-by-cookie"] == "canary-cookie" and mf.NGINX + "canary-by-header" not in ann


def test_blue_green_preview_switch_and_scale_down() -> None:
    bg = {"kind": "blue-green", "scale_down_delay_seconds": 30}
    first = promoted_first(bg)
    assert first.color == "blue" and first.active_color == "blue"
    rel, _ = revision(first, image="registry.local/web:2.0", strategy=bg, now=at(100))
    assert rel.color == "green" and [s.kind for s in rel.steps] == ["deploy-preview", "pause", "switch", "scale-down"]
    svc = {o["metadata"]["name"]: o for o in desired(rel, at(100)).apply if o["kind"] == "Service"}
    assert svc["web"]["spec"]["selector"][mf.COLOR] == "blue"
    assert svc["web-preview"]["spec"]["selector"][mf.COLOR] == "green"
    tick(rel, at(101))
    assert tick(rel, at(102)) == [] and str(rel.phase) == "paused"
    promote(rel, full=False, now=at(103))
    svc = {o["metadata"]["name"]: o for o in desired(rel, at(103)).apply if o["kind"] == "Service"}
    assert svc["web"]["spec"]["selector"][mf.COLOR] == "green"
    assert names(tick(rel, at(104))) == ["promoted", "step-started"]
    assert desired(rel, at(110)).scale == {}
    assert tick(rel, at(110)) == []
    assert desired(rel, at(134)).scale == {"web-blue": 0}
    assert tick(rel, at(134)) == [] and str(rel.phase) == "promoted" and rel.active_color == "green"


def test_commands_on_a_release() -> None:
    first = promoted_first(CANARY)
    with pytest.raises(Invalid) as e:
        promote(first, full=False, now=at(1))
    assert e.value.errors[0][0] == "release"
    rel, _ = revision(first, image="registry.local/web:2.0", strategy=CANARY, now=at(100))
    with pytest.raises(Invalid) as e:
        revision(rel, image="registry.local/web:3.0", strategy=CANARY)
    assert e.value.errors[0][0] == "name" and "still progressing" in str(e.value)
    with pytest.raises(Invalid) as e:
        promote(rel, full=False, now=at(101))  # canary-deploy is not a pause
    assert e.value.errors[0][0] == "full"
    assert names(promote(rel, full=True, now=at(101))) == ["step-started"]
    assert rel.current is not None and rel.current.kind == "promote"
    begin_rollback(rel, reason="by hand", aborted=False, now=at(102))
    d = desired(rel, at(102))
    assert any(o["metadata"]["name"] == "web" for o in d.apply)  # promote had started: restore stable
    assert names(tick(rel, at(103))) == ["rolled-back"] and str(rel.phase) == "rolled-back"
    with pytest.raises(Invalid):
        revision(rel, image="registry.local/web:3.0", strategy={"kind": "blue-green"})


def test_revision_history_and_restore() -> None:
    r1 = promoted_first({"kind": "rolling"})
    r2, _ = revision(r1, image="registry.local/web:2.0", strategy={"kind": "rolling"})
    tick(r2, at(1))
    assert r2.phase == "promoted"
    assert revision_to_restore(r2, None).revision == 1
    with pytest.raises(Invalid) as e:
        revision_to_restore(r2, 7)
    assert e.value.errors[0][0] == "to_revision" and "kept: 1, 2" in str(e.value)
    assert [h.image for h in r2.history] == ["registry.local/web:1.0", "registry.local/web:2.0"]
