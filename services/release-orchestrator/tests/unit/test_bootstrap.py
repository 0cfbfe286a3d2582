"""The composition root: dependencies passed in are the ones the handlers use; cluster
access without a kubeconfig asks cluster-manager's typed get-kubeconfig."""

from __future__ import annotations

from typing import Any, cast

import pytest
from berth_common.bus import Bus, QueryError
from berth_common.clock import Clock
from berth_release_orchestrator.adapters.clusters import Clusters, ClusterUnreachable
from berth_release_orchestrator.bootstrap import bootstrap, kubeconfig_from_cluster_manager
from berth_release_orchestrator.config import ReleaseSettings, deps
from berth_schema.cluster import GetKubeconfig, Kubeconfig


class AskingBus:
    def __init__(self, answer: Kubeconfig | QueryError) -> None:
        self.answer = answer
        self.asked: list[Any] = []

    async def ask(self, request: Any, *, timeout: float = 5.0) -> Kubeconfig:
        self.asked.append(request)
        if isinstance(self.answer, QueryError):
            raise self.answer
        return self.answer


async def test_kubeconfig_comes_from_cluster_manager() -> None:
    bus = AskingBus(Kubeconfig(cluster="c1", kubeconfig="apiVersion: v1\n"))
    ask = kubeconfig_from_cluster_manager(cast(Bus, bus))
    assert await ask("t1", "c1") == "apiVersion: v1\n"
    assert bus.asked == [GetKubeconfig(tenant="t1", cluster="c1")]
    refused = kubeconfig_from_cluster_manager(cast(Bus, AskingBus(QueryError(409, "cluster c1 is Creating"))))
    with pytest.raises(ClusterUnreachable, match="Creating"):
        await refused("t1", "c1")


def test_bootstrap_wires_what_it_is_given() -> None:
    clusters, clock = Clusters(kubeconfig="/nowhere"), Clock()
    app = bootstrap(ReleaseSettings(tick_seconds=0.5), clusters=clusters, clock=clock, holder="r1")
    assert app.name == "release-orchestrator"
    assert deps.cluster_access() is clusters and deps.clock is clock and deps.holder == "r1"
    assert deps.settings.tick_seconds == 0.5
    bootstrap()  # defaults: cluster-manager answers for clusters without a kubeconfig
    assert deps.cluster_access() is not clusters and deps.cluster_access().ask is not None
