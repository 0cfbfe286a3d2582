from datetime import timedelta

from berth_node_manager.domain.clock import FakeClock
from berth_node_manager.domain.drain import DrainOptions, DrainProgress, PodRef, budgets_covering, plan_drain

from .factories import pod


def test_plan_skips_daemonset_and_mirror_pods_and_refuses_bare_pods() -> None:
    pods = [
        pod("web-1", node="n1"),
        pod("agent-x", node="n1", owner="DaemonSet"),
        pod("etcd-n1", node="n1", owner="Node", annotations={"kubernetes.io/config.mirror": "abc"}),
        pod("bare", node="n1", owner=None),
    ]
    plan = plan_drain("n1", pods, DrainOptions())
    assert plan.evict == [PodRef("default", "web-1")]
    assert {p.name: p.reason.split(" ")[0] for p in plan.skipped} == {"agent-x": "DaemonSet", "etcd-n1": "mirror"}
    assert [p.name for p in plan.refused] == ["bare"]
    assert "force" in plan.refused_reason
    forced = plan_drain("n1", pods, DrainOptions(force=True))
    assert forced.evict == [PodRef("default", "bare"), PodRef("default", "web-1")]
    strict = plan_drain("n1", pods, DrainOptions(ignore_daemonsets=False, force=True))
    assert [p.name for p in strict.refused] == ["agent-x"]


def test_progress_retries_blocked_pods_and_reports_each_on_timeout() -> None:
    clock = FakeClock()
    plan = plan_drain(
        "n1", [pod("a", node="n1"), pod("b", node="n1"), pod("ds", node="n1", owner="DaemonSet")], DrainOptions()
    )
    progress = DrainProgress(plan, clock.now(), DrainOptions(timeout_seconds=10, retry_seconds=2))
    a, b = PodRef("default", "a"), PodRef("default", "b")
    assert progress.due(clock.now()) == [a, b]
    progress.accepted(a)
    progress.blocked(b, clock.now(), "Cannot evict pod as it would violate the pod's disruption budget.")
    assert progress.due(clock.now()) == []
    clock.advance(2)
    assert progress.due(clock.now()) == [b]
    progress.gone(a)
    progress.blocked(b, clock.now(), "Cannot evict pod as it would violate the pod's disruption budget.")
    assert not progress.finished
    clock.advance(10)
    assert progress.timed_out(clock.now())
    report = progress.report(clock.now())
    assert report.outcome == "timed-out"
    assert report.seconds == 12
    by_name = {p.name: p for p in report.pods}
    assert by_name["a"].outcome == "evicted"
    assert by_name["b"].outcome == "blocked"
    assert by_name["b"].attempts == 2
    assert "disruption budget" in by_name["b"].reason and "timed out after 10s" in by_name["b"].reason
    assert by_name["ds"].outcome == "skipped"
    assert "1 blocked" in report.summary()


def test_progress_drained_when_all_gone() -> None:
    clock = FakeClock()
    plan = plan_drain("n1", [pod("a", node="n1")], DrainOptions())
    progress = DrainProgress(plan, clock.now(), DrainOptions())
    progress.accepted(PodRef("default", "a"))
    assert progress.waiting() == [PodRef("default", "a")]
    progress.gone(PodRef("default", "a"))
    clock.advance(timedelta(seconds=3))
    assert progress.finished
    assert progress.report(clock.now()).outcome == "drained"


def test_budgets_covering_uses_selectors_and_namespaces() -> None:
    pdbs = [
        {"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": {"matchLabels": {"app": "web"}}}},
        {"metadata": {"name": "other-ns", "namespace": "prod"}, "spec": {"selector": {}}},
        {
            "metadata": {"name": "expr", "namespace": "default"},
            "spec": {"selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe"]}]}},
        },
    ]
    p = pod("w", labels={"app": "web", "tier": "fe"})
    assert [b["metadata"]["name"] for b in budgets_covering(p, pdbs)] == ["web", "expr"]
    assert budgets_covering(pod("x", labels={"app": "db"}), pdbs) == []
