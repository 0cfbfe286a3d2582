"""Abort, progress deadlines and rolling parameters."""

from __future__ import annotations

from berth_release_orchestrator.domain.release import Seen, advance, begin_rollback, desired
from berth_schema.release import ReleaseRolledBack

from .factories import at, names, promoted_first, revision, tick


def test_rolling_update_parameters_reach_the_deployment() -> None:
    rel, _ = revision(
        None, image="registry.local/web:1.0", strategy={"kind": "rolling", "max_surge": 1, "max_unavailable": "0"}
    )
    dep = next(o for o in desired(rel, at(0)).apply if o["kind"] == "Deployment")
    assert dep["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert c["lifecycle"]["preStop"]["sleep"]["seconds"] == 5 and c["resources"]["limits"]["memory"] == "256Mi"
    assert "podAntiAffinity" in pod["affinity"]


def test_abort_returns_traffic_and_says_so() -> None:
    stable = promoted_first({"kind": "canary"})
    rel, _ = revision(stable, image="registry.local/web:2.0", strategy={"kind": "canary"}, now=at(50))
    tick(rel, at(51))
    tick(rel, at(52))
    begin_rollback(rel, reason="aborted by ann", aborted=True, now=at(53))
    facts = tick(rel, at(54))
    assert names(facts) == ["rolled-back"] and str(rel.phase) == "aborted"
    fact = facts[0]
    assert isinstance(fact, ReleaseRolledBack) and fact.aborted and fact.image == "registry.local/web:1.0"


def test_progress_deadline_rolls_back() -> None:
    stable = promoted_first({"kind": "canary"})
    strategy = {"kind": "canary", "progress_deadline_seconds": 60}
    rel, _ = revision(stable, image="registry.local/web:2.0", strategy=strategy, now=at(100))
    stuck = Seen(available=False, not_available=["web-canary (0/1 replicas available)"])
    assert advance(rel, at(150), stuck) == [] and str(rel.phase) == "progressing"
    assert advance(rel, at(161), stuck) == [] and str(rel.phase) == "rolling-back"
    assert "web-canary (0/1 replicas available) not Available after 60s" in rel.reason
    assert names(tick(rel, at(162))) == ["rolled-back"]


def test_first_blue_green_goes_live_at_once() -> None:
    rel, _ = revision(None, image="registry.local/web:1.0", strategy={"kind": "blue-green"})
    assert [s.kind for s in rel.steps] == ["deploy-preview", "switch"]
    assert names(tick(rel, at(1))) == ["step-started"]
    assert names(tick(rel, at(2))) == ["promoted"] and str(rel.phase) == "promoted" and rel.active_color == "blue"
