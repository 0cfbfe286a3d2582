from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from berth_cluster_manager.domain import STEPS, Cluster, InvalidTransition, OperationKind, Phase, parse_spec
from berth_cluster_manager.domain.errors import DomainError
from berth_cluster_manager.domain.versions import check_upgrade, next_versions

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _at(n: int) -> datetime:
    return T0 + timedelta(seconds=n)


def _new(version: str = "v1.35.2") -> Cluster:
    return Cluster.request(tenant="t1", spec=parse_spec({"name": "c1", "version": version}), at=T0)


def _run(c: Cluster, start: int = 1) -> int:
    n = start
    while c.current_step is not None:
        step = c.current_step
        c.step_started(step, at=_at(n))
        c.step_succeeded(step, at=_at(n + 1))
        n += 2
    return n


def test_create_walks_every_step_to_running_with_a_timeline() -> None:
    c = _new()
    assert c.phase == Phase.PENDING
    _run(c)
    assert c.phase == Phase.RUNNING and c.version == "v1.35.2" and c.operation is None
    done = [e.step for e in c.timeline if e.result == "succeeded"]
    assert done == [*STEPS[OperationKind.CREATE], "running"]
    assert c.timeline[0].step == "requested"
    assert Cluster.from_doc(c.to_doc()) == c


def test_failure_then_retry_resumes_at_the_failed_step() -> None:
    c = _new()
    c.step_started("issue-certificates", at=_at(1))
    c.step_succeeded("issue-certificates", at=_at(2))
    c.step_started("provision-etcd", at=_at(3))
    c.step_failed("provision-etcd", at=_at(4), reason="etcd did not start")
    assert c.phase == Phase.FAILED and c.failure is not None and c.failure.reason == "etcd did not start"
    assert c.current_step is None
    with pytest.raises(InvalidTransition):
        c.step_started("provision-etcd", at=_at(5))
    assert c.retry(at=_at(5)) == "provision-etcd"
    assert c.phase == Phase.PROVISIONING and c.current_step == "provision-etcd"
    _run(c, 6)
    assert c.phase == Phase.RUNNING
    with pytest.raises(InvalidTransition):
        c.retry(at=_at(99))


def test_steps_must_run_in_order() -> None:
    c = _new()
    with pytest.raises(InvalidTransition, match="not the current step"):
        c.step_started("provision-etcd", at=_at(1))


def test_upgrade_order_and_rules() -> None:
    c = _new()
    _run(c)
    with pytest.raises(DomainError, match="skips a minor"):
        check_upgrade("v1.34.3", "v1.36.3")
    with pytest.raises(DomainError, match="downgrades"):
        c.start_upgrade("v1.34.3", at=_at(50))
    with pytest.raises(DomainError, match="not supported"):
        c.start_upgrade("v1.37.0", at=_at(50))
    c.start_upgrade("v1.36.3", at=_at(50))
    assert c.phase == Phase.UPGRADING
    assert c.operation is not None and c.operation.steps == [
        "upgrade-etcd",
        "upgrade-kube-apiserver",
        "upgrade-controller-manager-scheduler",
        "upgrade-node-pools",
    ]
    _run(c, 51)
    assert c.phase == Phase.RUNNING and c.version == "v1.36.3" and c.spec.version == "v1.36.3"
    assert next_versions("v1.35.2") == ["v1.36.3"]
    assert next_versions("v1.36.3") == []


def test_upgrade_needs_running_and_delete_rules() -> None:
    c = _new()
    with pytest.raises(InvalidTransition):
        c.start_upgrade("v1.36.3", at=_at(1))
    c.step_started("issue-certificates", at=_at(1))
    with pytest.raises(InvalidTransition, match="wait"):
        c.start_delete(at=_at(2))
    c.step_failed("issue-certificates", at=_at(2), reason="boom")
    c.start_delete(at=_at(3))
    assert c.phase == Phase.DELETING
    _run(c, 4)
    assert c.phase == Phase.DELETED
    with pytest.raises(InvalidTransition):
        c.start_delete(at=_at(20))


def test_ca_rotation_two_phases() -> None:
    c = _new()
    with pytest.raises(InvalidTransition):
        c.start_ca_rotation(at=_at(1))
    _run(c)
    with pytest.raises(InvalidTransition, match="start one first"):
        c.complete_ca_rotation(at=_at(40))
    c.start_ca_rotation(at=_at(40))
    with pytest.raises(InvalidTransition, match="already"):
        c.start_ca_rotation(at=_at(41))
    c.complete_ca_rotation(at=_at(42))
    assert c.ca_rotation == "idle"
