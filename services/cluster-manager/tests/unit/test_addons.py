from __future__ import annotations

from datetime import UTC, datetime

import pytest
from berth_cluster_manager.addons.helm import CHARTS, chart_version
from berth_cluster_manager.domain import Cluster, DomainError, parse_spec
from berth_cluster_manager.domain.addons import CATALOGUE, addon, values_for


def test_values_follow_the_cluster_spec() -> None:
    spec = parse_spec({"name": "c1", "service_cidr": "10.96.0.0/16", "flavour": 1000, "pod_cidr": "10.0.0.0/14"})
    assert values_for(addon("coredns"), spec, cluster="c1") == {"clusterIP": "10.96.0.10", "replicas": 4}
    assert values_for(addon("monitoring-agent"), spec, cluster="c1", overrides={"x": 1}) == {"cluster": "c1", "x": 1}
    with pytest.raises(DomainError, match="addon: 'dashboard'"):
        addon("dashboard")


def test_every_addon_ships_a_chart() -> None:
    for a in CATALOGUE.values():
        assert (CHARTS / a.chart / "Chart.yaml").exists()
        assert chart_version(a.chart).startswith("1.0.0")


def test_addon_status_goes_on_the_timeline() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    c = Cluster.request(tenant="t1", spec=parse_spec({"name": "c1"}), at=at)
    c.set_addon("coredns", status="failed", at=at, message="helm install failed: boom")
    assert c.addons["coredns"].status == "failed"
    assert (c.timeline[-1].step, c.timeline[-1].result) == ("addon-coredns", "failed")
    assert Cluster.from_doc(c.to_doc()).addons["coredns"].message == "helm install failed: boom"
