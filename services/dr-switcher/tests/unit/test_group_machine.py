"""The DR group state machine with an injected clock: no servers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from berth_dr_switcher.domain.events import (
    ProbeFailed,
    ProbeRecovered,
    StateChanged,
    Switched,
    SwitchFailed,
    SwitchStarted,
)
from berth_dr_switcher.domain.group import DrGroup, SwitchRefused
from berth_dr_switcher.domain.plan import traffic_plan
from berth_dr_switcher.domain.status import ProbeResult, ProbeRound
from berth_schema.dr.spec import GroupSpec, parse_spec
from pydantic import ValidationError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def step(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def spec(**over: Any) -> GroupSpec:
    raw: dict[str, Any] = {
        "name": "shop",
        "primary": {
            "name": "idc-a",
            "dns_targets": ["10.0.0.1"],
            "probes": [{"kind": "http", "url": "http://10.0.0.1/healthz"}],
        },
        "standby": {
            "name": "idc-b",
            "dns_targets": ["10.0.1.1"],
            "probes": [{"kind": "tcp", "host": "10.0.1.1", "port": 443}],
        },
        "dns": {"zone": "example.org", "record": "shop.example.org"},
        "probe": {"interval_seconds": 1, "timeout_seconds": 0.5, "failure_threshold": 3, "recovery_threshold": 2},
        "hold_down_seconds": 60,
    }
    raw.update(over)
    return parse_spec(raw)


def rnd(ok: bool, at: datetime, detail: str = "HTTP 500") -> ProbeRound:
    return ProbeRound(at=at, results=[ProbeResult(probe="http", ok=ok, detail="" if ok else detail)])


def both(g: DrGroup, clock: Clock, *, primary: bool, standby: bool = True) -> None:
    now = clock.step()
    g.observe("primary", rnd(primary, now))
    g.observe("standby", rnd(standby, now))


def of(g: DrGroup, cls: type) -> list[Any]:
    return [e for e in g.events if isinstance(e, cls)]


def finish(g: DrGroup, clock: Clock, ok: bool = True) -> None:
    assert g.status.pending is not None
    assert g.complete(g.status.pending.id, ok=ok, detail="done" if ok else "PowerDNS 500", now=clock.step(0.1))


def test_spec_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match=r"primary\.dns_targets"):
        spec(primary={"name": "a", "dns_targets": ["not-an-ip"], "probes": [{"kind": "tcp", "host": "h", "port": 1}]})
    with pytest.raises(ValidationError, match="timeout_seconds"):
        spec(probe={"interval_seconds": 1, "timeout_seconds": 5})
    with pytest.raises(ValidationError, match="not inside zone"):
        spec(dns={"zone": "example.org", "record": "shop.example.com"})
    with pytest.raises(ValidationError, match="set dns and/or ingress"):
        spec(dns=None)
    with pytest.raises(ValidationError, match=r"standby\.ingress"):
        spec(
            dns=None,
            ingress={"cluster": "c1", "namespace": "web"},
            primary={"name": "a", "ingress": "shop", "probes": [{"kind": "tcp", "host": "h", "port": 1}]},
        )
    with pytest.raises(ValidationError, match="probes"):
        spec(standby={"name": "b", "dns_targets": ["10.0.1.1"], "probes": []})


def test_spec_normalises_names_and_plans_traffic() -> None:
    s = spec()
    assert s.dns is not None and s.dns.record == "shop.example.org." and s.dns.zone == "example.org."
    plan = traffic_plan(s, "standby")
    assert plan.dns_targets == ("10.0.1.1",) and plan.canary_weight is None
    s2 = spec(
        ingress={"cluster": "c1", "namespace": "web"},
        primary={
            "name": "a",
            "dns_targets": ["10.0.0.1"],
            "ingress": "shop",
            "probes": [{"kind": "tcp", "host": "h", "port": 1}],
        },
        standby={
            "name": "b",
            "dns_targets": ["10.0.1.1"],
            "ingress": "shop-b",
            "probes": [{"kind": "tcp", "host": "h", "port": 1}],
        },
    )
    assert traffic_plan(s2, "standby").canary_weight == 100
    assert traffic_plan(s2, "primary").canary_weight == 0


def test_failover_after_n_consecutive_failures_with_healthy_standby() -> None:
    clock = Clock()
    g = DrGroup.create(spec(), now=clock.now)
    both(g, clock, primary=True)
    assert g.status.state == "active-primary"
    both(g, clock, primary=False)
    assert g.status.state == "degraded" and g.status.pending is None
    both(g, clock, primary=False)
    assert g.status.pending is None
    both(g, clock, primary=False)  # third in a row: N = 3
    assert [type(e) for e in g.events if not isinstance(e, StateChanged)] == [ProbeFailed, SwitchStarted]
    started = of(g, SwitchStarted)[0]
    assert started.kind == "failover" and started.automatic and started.to_site == "standby"
    assert "3 consecutive failed probes" in started.reason and "HTTP 500" in started.reason
    assert g.status.state == "switching-over"
    finish(g, clock)
    assert g.status.active == "standby" and g.status.state == "active-standby"
    assert of(g, Switched)[0].switch_id == started.switch_id
    states = [(e.from_state, e.to_state) for e in of(g, StateChanged)]
    assert states == [
        (None, "active-primary"),
        ("active-primary", "degraded"),
        ("degraded", "switching-over"),
        ("switching-over", "active-standby"),
    ]
    assert all(e.reason for e in of(g, StateChanged))
    assert g.status.switch_log[-1].result == "switched"


def test_no_failover_to_unhealthy_standby_and_reported_once() -> None:
    clock = Clock()
    g = DrGroup.create(spec(), now=clock.now)
    for _ in range(6):
        both(g, clock, primary=False, standby=False)
    assert g.status.pending is None and g.status.active == "primary"
    refused = of(g, SwitchFailed)
    assert len(refused) == 1 and refused[0].refused and refused[0].automatic
    assert "unhealthy site" in refused[0].reason and "idc-b" in refused[0].reason
    assert g.status.state == "degraded"
    # the standby comes back: failover happens at once (its first success is enough after down? no: M=2)
    both(g, clock, primary=False, standby=True)
    assert g.status.pending is None
    both(g, clock, primary=False, standby=True)
    assert g.status.pending is not None and g.status.pending.kind == "failover"
    assert len(of(g, ProbeRecovered)) == 1


def test_flapping_primary_does_not_flap_traffic() -> None:
    clock = Clock()
    g = DrGroup.create(spec(auto_failback=True, hold_down_seconds=30), now=clock.now)
    # short failure streaks (< N) never switch
    for pattern in [False, False, True, False, False, True, False, True]:
        both(g, clock, primary=pattern)
    assert not of(g, SwitchStarted)
    # a real outage: failover
    for _ in range(3):
        both(g, clock, primary=False)
    finish(g, clock)
    assert g.status.active == "standby"
    # the primary now flaps; within the hold-down no automatic failback happens
    for i in range(20):
        both(g, clock, primary=i % 3 != 0)
    assert len(of(g, SwitchStarted)) == 1
    # after the hold-down and M successes it fails back exactly once
    clock.step(30)
    both(g, clock, primary=True)
    both(g, clock, primary=True)
    starts = of(g, SwitchStarted)
    assert len(starts) == 2 and starts[1].kind == "failback" and starts[1].automatic


def test_hold_down_blocks_automatic_failover_but_not_manual() -> None:
    clock = Clock()
    g = DrGroup.create(spec(hold_down_seconds=60), now=clock.now)
    both(g, clock, primary=True)
    g.request("switchover", reason="maintenance of idc-a", requested_by="alice", switch_id="s1", now=clock.step())
    finish(g, clock)
    assert g.status.active == "standby"
    g.request("failback", reason="maintenance done", requested_by="alice", switch_id="s2", now=clock.step())
    finish(g, clock)
    assert g.status.active == "primary"
    for _ in range(3):
        both(g, clock, primary=False)
    assert g.status.pending is None
    blocked = [e for e in of(g, SwitchFailed) if e.automatic]
    assert len(blocked) == 1 and "hold-down" in blocked[0].reason
    clock.step(60)
    both(g, clock, primary=False)
    assert g.status.pending is not None and g.status.pending.kind == "failover"


def test_manual_switch_rules() -> None:
    clock = Clock()
    g = DrGroup.create(spec(), now=clock.now)
    with pytest.raises(SwitchRefused, match="has not been probed yet"):
        g.request("switchover", reason="r", requested_by="bob", switch_id="x1", now=clock.step())
    assert g.status.switch_log[-1].result == "refused"
    both(g, clock, primary=True)
    with pytest.raises(SwitchRefused, match="already on the primary"):
        g.request("failback", reason="r", requested_by="bob", switch_id="x2", now=clock.step())
    g.request("switchover", reason="planned", requested_by="bob", switch_id="x3", now=clock.step())
    with pytest.raises(SwitchRefused, match="in progress"):
        g.request("failback", reason="r", requested_by="bob", switch_id="x4", now=clock.step())
    finish(g, clock)
    for _ in range(3):
        both(g, clock, primary=False)
    with pytest.raises(SwitchRefused, match=r"failback needs a healthy primary.*idc-a"):
        g.request("failback", reason="r", requested_by="bob", switch_id="x5", now=clock.step())
    g.request("failback", reason="we know", requested_by="bob", switch_id="x6", now=clock.step(), force=True)
    assert g.status.pending is not None and g.status.pending.forced
    # a failed switch leaves traffic where it was
    finish(g, clock, ok=False)
    assert g.status.active == "standby"
    failed = [e for e in of(g, SwitchFailed) if not e.refused]
    assert failed and "PowerDNS 500" in failed[-1].reason


def test_drill_switches_and_returns_marked_as_drill() -> None:
    clock = Clock()
    g = DrGroup.create(spec(), now=clock.now)
    both(g, clock, primary=True)
    g.events.clear()
    g.request("drill", reason="quarterly drill", requested_by="ops", switch_id="d1", now=clock.step(), drill_seconds=30)
    assert g.status.state == "drill"
    finish(g, clock)
    assert g.status.active == "standby" and g.status.state == "drill"
    both(g, clock, primary=True)
    g.tick(clock.step(10))
    assert g.status.pending is None
    g.tick(clock.step(25))
    assert g.status.pending is not None and g.status.pending.kind == "drill-return"
    finish(g, clock)
    assert g.status.active == "primary" and g.status.state == "active-primary" and g.status.drill is None
    kinds = [e.kind for e in g.events if isinstance(e, Switched)]
    assert kinds == ["drill", "drill-return"]
    for e in g.events:
        assert getattr(e, "drill_id", None) == "d1", e


def test_drill_aborts_when_standby_fails_and_stays_when_primary_is_down() -> None:
    clock = Clock()
    g = DrGroup.create(spec(), now=clock.now)
    both(g, clock, primary=True)
    g.request("drill", reason="d", requested_by="ops", switch_id="d1", now=clock.step(), drill_seconds=300)
    finish(g, clock)
    for _ in range(3):
        both(g, clock, primary=True, standby=False)
    assert g.status.pending is not None and g.status.pending.kind == "drill-return"
    assert "aborted" in g.status.pending.reason
    finish(g, clock)
    assert g.status.active == "primary" and g.status.drill is None
    # second drill: the primary dies during it; at the end traffic stays on the standby
    clock.step(120)
    both(g, clock, primary=True)
    both(g, clock, primary=True)
    g.request("drill", reason="d2", requested_by="ops", switch_id="d2", now=clock.step(), drill_seconds=5)
    finish(g, clock)
    for _ in range(3):
        both(g, clock, primary=False)
    g.tick(clock.step(10))
    assert g.status.pending is None and g.status.drill is None
    assert g.status.active == "standby" and g.status.state == "active-standby"
    assert "staying on standby" in g.status.reason


def test_drill_refused_for_unhealthy_standby_or_too_long() -> None:
    clock = Clock()
    g = DrGroup.create(spec(drill_max_seconds=60), now=clock.now)
    for _ in range(3):
        both(g, clock, primary=True, standby=False)
    with pytest.raises(SwitchRefused, match="healthy standby"):
        g.request("drill", reason="d", requested_by="ops", switch_id="d1", now=clock.step(), drill_seconds=30)
    assert g.status.drill is None
    refused = of(g, SwitchFailed)[-1]
    assert refused.refused and refused.drill_id == "d1"
    for _ in range(2):
        both(g, clock, primary=True, standby=True)
    with pytest.raises(SwitchRefused, match="exceeds drill_max_seconds"):
        g.request("drill", reason="d", requested_by="ops", switch_id="d2", now=clock.step(), drill_seconds=61)


def test_complete_ignores_unknown_switch_and_stale_detection() -> None:
    clock = Clock()
    g = DrGroup.create(spec(switch_timeout_seconds=5), now=clock.now)
    both(g, clock, primary=True)
    g.request("switchover", reason="r", requested_by="a", switch_id="s1", now=clock.step())
    assert not g.complete("other", ok=True, detail="", now=clock.step())
    assert not g.pending_is_stale(clock.step(5))
    assert g.pending_is_stale(clock.step(6))
    assert g.complete("s1", ok=True, detail="", now=clock.step())
    assert not g.complete("s1", ok=True, detail="", now=clock.step())


def test_linked_groups_are_validated() -> None:
    assert spec(linked_groups=["api", "db-proxy"]).linked_groups == ["api", "db-proxy"]
    with pytest.raises(ValidationError, match="cannot follow itself"):
        spec(linked_groups=["shop"])
    with pytest.raises(ValidationError, match="not a group name"):
        spec(linked_groups=["Bad_Name"])
