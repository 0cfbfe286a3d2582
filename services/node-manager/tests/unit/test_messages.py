import pytest
from berth_common.events import registry
from berth_schema.node import CreatePool, Drain, RegisterCluster, ScalePool, UpgradePools
from pydantic import ValidationError


def test_create_pool_accepts_the_console_shorthand() -> None:
    cmd = CreatePool.model_validate(
        {"cluster": "c1", "tenant": "t1", "name": "web", "flavor": "4c16g", "size": 3, "min_size": 2, "max_size": 6}
    )
    spec = cmd.spec()
    assert (spec.flavour.cpu, spec.flavour.memory_gib, spec.count) == (4, 16, 3)
    assert (spec.autoscaling.enabled, spec.autoscaling.min_count, spec.autoscaling.max_count) == (True, 2, 6)
    with pytest.raises(ValidationError, match="flavour"):
        CreatePool.model_validate({"cluster": "c1", "tenant": "t1", "name": "web", "flavour": "big"})
    with pytest.raises(ValidationError, match="outside autoscaling bounds"):
        CreatePool.model_validate(
            {"cluster": "c1", "tenant": "t1", "name": "w", "flavour": "2c4g", "size": 9, "max_size": 3}
        )


def test_scale_pool_takes_replicas_size_or_delta() -> None:
    assert ScalePool(cluster="c1", tenant="t1", pool="p", size=4).replicas == 4  # as monitor-alert sends it
    assert ScalePool(cluster="c1", tenant="t1", pool="p", delta=-1).delta == -1
    with pytest.raises(ValidationError, match="exactly one"):
        ScalePool(cluster="c1", tenant="t1", pool="p", replicas=1, delta=1)
    with pytest.raises(ValidationError, match="exactly one"):
        ScalePool(cluster="c1", tenant="t1", pool="p")
    spec = registry.spec_for(ScalePool)
    assert (spec.type, spec.subject) == ("berth.cmd.node-manager.scale-pool.v1", "berth.cmd.node-manager.scale-pool")


def test_upgrade_pools_and_drain_validate() -> None:
    with pytest.raises(ValidationError, match="version"):
        UpgradePools(cluster="c1", tenant="t1", version="latest")
    assert registry.spec_for(UpgradePools).subject == "berth.cmd.node-manager.upgrade-pools"
    assert Drain(cluster="c1", tenant="t1", node="n", grace_seconds=5).options().grace_period_seconds == 5
    with pytest.raises(ValidationError, match="cluster"):
        Drain(cluster="Not A Name", tenant="t1", node="n")


def test_kubeconfig_stays_out_of_reprs() -> None:
    cmd = RegisterCluster(cluster="c1", tenant="t1", kubeconfig="client-key-data: SECRET")
    assert "SECRET" not in repr(cmd) and "SECRET" not in str(cmd)
